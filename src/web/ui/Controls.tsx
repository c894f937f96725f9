import type { ComponentChildren } from 'preact';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import type { ConfirmSpec } from './ConfirmDialog.tsx';
import { CameraIcon, ChatIcon, EndIcon, HandIcon, LeaveIcon, MicIcon, PeopleIcon, RecordIcon, ScreenIcon } from './icons.tsx';

function ControlButton({ label, pressed, onClick, disabled, title, tone, badge, badgeTone, children }: {
  label: string;
  pressed?: boolean;
  onClick: () => void;
  disabled?: boolean;
  title?: string;
  tone?: 'off' | 'danger';
  badge?: number;
  badgeTone?: 'alert';
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={`control${tone ? ` ${tone}` : ''}${pressed ? ' pressed' : ''}`}
      aria-label={label}
      aria-pressed={pressed}
      title={title ?? label}
      disabled={disabled}
      onClick={onClick}
    >
      {children}
      <span class="caption" aria-hidden="true">{label}</span>
      {badge ? <span class={`count${badgeTone ? ` ${badgeTone}` : ''}`} aria-hidden="true">{badge > 99 ? '99+' : badge}</span> : null}
    </button>
  );
}

export function Controls({ meeting, state, confirm }: { meeting: Meeting; state: AppState; confirm: (spec: ConfirmSpec) => void }) {
  const { local, permissions, self, panel, unreadChat } = state;
  const waiting = permissions?.moderate ? state.waiting.length : 0;
  const mayAudio = permissions?.publishAudio ?? false;
  const mayVideo = permissions?.publishVideo ?? false;
  const micOn = mayAudio && local.micOn && Boolean(local.audioTrack);
  const camOn = mayVideo && Boolean(local.videoTrack);
  return (
    <nav class="controls" aria-label="Meeting controls">
      <div class="control-group">
        <ControlButton
          label="Microphone"
          pressed={micOn}
          tone={micOn ? undefined : 'off'}
          disabled={!mayAudio}
          title={!mayAudio ? 'You may not speak in this meeting' : micOn ? 'Mute your microphone' : 'Unmute your microphone'}
          onClick={() => meeting.controls.toggleMic()}
        >
          <MicIcon off={!micOn} />
        </ControlButton>
        <ControlButton
          label="Camera"
          pressed={camOn}
          tone={camOn ? undefined : 'off'}
          disabled={!mayVideo}
          title={!mayVideo ? 'You may not use your camera in this meeting' : camOn ? 'Turn your camera off' : 'Turn your camera on'}
          onClick={() => meeting.controls.toggleCam()}
        >
          <CameraIcon off={!camOn} />
        </ControlButton>
        {permissions?.shareScreen && local.canShareScreen && (
          <ControlButton label="Share screen" pressed={Boolean(local.screenTrack)} title={local.screenTrack ? 'Stop sharing your screen' : 'Share your screen'} onClick={() => void meeting.controls.toggleScreen()}>
            <ScreenIcon />
          </ControlButton>
        )}
        {permissions?.record && (
          <ControlButton
            label={state.recording ? 'Stop recording' : 'Record'}
            pressed={state.recording}
            tone={state.recording ? 'danger' : undefined}
            title={state.recording ? 'Stop recording the meeting' : 'Record the meeting (everyone is told)'}
            onClick={() => meeting.controls.setRecording(!state.recording)}
          >
            <RecordIcon on={state.recording} />
          </ControlButton>
        )}
        <ControlButton label="Raise hand" pressed={Boolean(self?.handRaised)} title={self?.handRaised ? 'Lower your hand' : 'Raise your hand'} onClick={() => meeting.controls.toggleHand()}>
          <HandIcon />
        </ControlButton>
      </div>
      <div class="control-group">
        <ControlButton label="Chat" pressed={panel === 'chat'} badge={panel === 'chat' ? 0 : unreadChat} onClick={() => meeting.controls.setPanel(panel === 'chat' ? null : 'chat')}>
          <ChatIcon />
        </ControlButton>
        <ControlButton
          label="Participants"
          pressed={panel === 'people'}
          badge={waiting}
          badgeTone="alert"
          title={waiting ? `Participants: ${waiting} waiting to be let in` : 'Participants'}
          onClick={() => meeting.controls.setPanel(panel === 'people' ? null : 'people')}
        >
          <PeopleIcon />
        </ControlButton>
      </div>
      <div class="control-group">
        <ControlButton label="Leave" tone="danger" title="Leave the meeting" onClick={() => meeting.leave()}>
          <LeaveIcon />
        </ControlButton>
        {permissions?.moderate && (
          <ControlButton
            label="End meeting for all"
            tone="danger"
            onClick={() => confirm({
              title: 'End the meeting for everyone?',
              text: 'Everyone in the meeting will be disconnected, and the meeting will end.',
              confirmLabel: 'End meeting',
              onConfirm: () => meeting.controls.endForAll(),
            })}
          >
            <EndIcon />
          </ControlButton>
        )}
      </div>
    </nav>
  );
}
