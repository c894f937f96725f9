import { useEffect, useState } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import type { AppState, DeviceOption } from '../state.ts';
import { CameraIcon, MicIcon } from './icons.tsx';
import { MicLevel, Video } from './media.tsx';

function DeviceSelect({ id, label, options, value, onChange }: {
  id: string;
  label: string;
  options: DeviceOption[];
  value: string | undefined;
  onChange: (deviceId: string) => void;
}) {
  if (options.length === 0) return null;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {options.map((o) => (
          <option key={o.deviceId} value={o.deviceId}>{o.label}</option>
        ))}
      </select>
    </div>
  );
}

export function PreJoin({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { bootstrap, local, joinError, phase, title } = state;
  const [name, setName] = useState(() => meeting.savedName());
  const joining = phase === 'joining';
  const viewer = meeting.isViewer;
  useEffect(() => {
    if (!viewer) void meeting.local.start();
  }, []);

  const micOn = local.micOn && Boolean(local.audioTrack);
  const camOn = local.camOn && Boolean(local.videoTrack);
  let previewText = 'Your camera is off';
  if (viewer) previewText = 'You join as a viewer';
  else if (local.camError) previewText = 'Camera unavailable';
  else if (local.camOn) previewText = local.starting ? 'Starting your camera…' : 'No camera picture';

  const submit = (e: Event) => {
    e.preventDefault();
    void meeting.join(bootstrap.needsName ? name : undefined);
  };

  return (
    <main class="prejoin" data-state={phase}>
      <div class="prejoin-card">
        <section class="preview" aria-label="Your camera preview">
          <div class="preview-frame">
            <div class="placeholder">
              <span class="placeholder-text">{previewText}</span>
            </div>
            {local.videoTrack && <Video track={local.videoTrack} mirrored />}
            <div class="preview-controls" hidden={viewer}>
              <button
                type="button"
                class={`control round${micOn ? '' : ' off'}`}
                aria-label="Microphone"
                aria-pressed={micOn}
                title={micOn ? 'Join with your microphone on' : 'Join with your microphone off'}
                onClick={() => meeting.toggleMic()}
              >
                <MicIcon off={!micOn} />
              </button>
              <button
                type="button"
                class={`control round${camOn ? '' : ' off'}`}
                aria-label="Camera"
                aria-pressed={camOn}
                title={camOn ? 'Join with your camera on' : 'Join with your camera off'}
                onClick={() => meeting.toggleCam()}
              >
                <CameraIcon off={!camOn} />
              </button>
            </div>
          </div>
          {!viewer && <MicLevel track={local.audioTrack} on={local.micOn} />}
        </section>

        <form class="prejoin-form" onSubmit={submit} noValidate>
          <p class="eyebrow">Ready to join?</p>
          <h1>{title}</h1>
          {bootstrap.needsName ? (
            <div class="field">
              <label for="name">Your name</label>
              <input
                id="name"
                type="text"
                autoComplete="name"
                maxLength={100}
                required
                value={name}
                aria-invalid={joinError && !name.trim() ? true : undefined}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </div>
          ) : (
            <p class="joining-as">
              Joining as <strong>{bootstrap.person?.name || 'a guest'}</strong>
            </p>
          )}
          {viewer && <p class="joining-as">You will see and hear the meeting; your camera and microphone stay off.</p>}
          <DeviceSelect id="camera" label="Camera" options={local.videoInputs} value={local.videoDeviceId} onChange={(id) => void meeting.local.selectDevice('video', id)} />
          <DeviceSelect id="microphone" label="Microphone" options={local.audioInputs} value={local.audioDeviceId} onChange={(id) => void meeting.local.selectDevice('audio', id)} />
          {local.micError && <p class="notice">{local.micError}</p>}
          {local.camError && local.camError !== local.micError && <p class="notice">{local.camError}</p>}
          {joinError && (
            <p class="error" role="alert">
              {joinError}
            </p>
          )}
          <button type="submit" class="button primary join" disabled={joining}>
            {joining ? 'Joining…' : 'Join'}
          </button>
        </form>
      </div>
    </main>
  );
}
