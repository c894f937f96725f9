import type { Meeting } from '../meeting.ts';
import type { AppState, DeviceOption } from '../state.ts';
import { CameraIcon, MicIcon } from './icons.tsx';
import { MicLevel, Video } from './media.tsx';

/** The camera preview with microphone and camera toggles (pre-join and lobby). */
export function Preview({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { local } = state;
  const viewer = meeting.isViewer;
  const micOn = local.micOn && Boolean(local.audioTrack);
  const camOn = local.camOn && Boolean(local.videoTrack);
  let previewText = 'Your camera is off';
  if (viewer) previewText = 'You join as a viewer';
  else if (local.camError) previewText = 'Camera unavailable';
  else if (local.camOn) previewText = local.starting ? 'Starting your camera…' : 'No camera picture';
  return (
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
            onClick={() => meeting.controls.toggleMic()}
          >
            <MicIcon off={!micOn} />
          </button>
          <button
            type="button"
            class={`control round${camOn ? '' : ' off'}`}
            aria-label="Camera"
            aria-pressed={camOn}
            title={camOn ? 'Join with your camera on' : 'Join with your camera off'}
            onClick={() => meeting.controls.toggleCam()}
          >
            <CameraIcon off={!camOn} />
          </button>
        </div>
      </div>
      {!viewer && <MicLevel track={local.audioTrack} on={local.micOn} />}
    </section>
  );
}

export function DeviceSelect({ id, label, options, value, onChange }: {
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

/** Camera and microphone choice, and what is wrong with them. */
export function Devices({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { local } = state;
  return (
    <>
      <DeviceSelect id="camera" label="Camera" options={local.videoInputs} value={local.videoDeviceId} onChange={(id) => void meeting.local.selectDevice('video', id)} />
      <DeviceSelect id="microphone" label="Microphone" options={local.audioInputs} value={local.audioDeviceId} onChange={(id) => void meeting.local.selectDevice('audio', id)} />
      {local.micError && <p class="notice">{local.micError}</p>}
      {local.camError && local.camError !== local.micError && <p class="notice">{local.camError}</p>}
    </>
  );
}
