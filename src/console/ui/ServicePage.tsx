import { useState } from 'preact/hooks';
import { api, failure } from '../api.ts';
import type { ServiceState } from '../types.ts';
import { Outcome, useConfirm } from './confirm.tsx';
import { usePoll } from './poll.ts';

type Action = 'start' | 'stop' | 'restart' | 'refresh-addresses';

const ACTIONS: { action: Action; label: string; done: string; title: string; text: string; danger?: boolean }[] = [
  { action: 'start', label: 'Start', done: 'Started.', title: 'Start the media service?', text: 'Meetings can be joined again once the media workers run.' },
  { action: 'stop', label: 'Stop', done: 'Stopped.', title: 'Stop the media service?', danger: true, text: 'Every live meeting ends for everyone, and links refuse joins until the service is started again.' },
  { action: 'restart', label: 'Restart', done: 'Restarted.', title: 'Restart the media service?', danger: true, text: 'Every live meeting ends for everyone; the media workers then start again.' },
  { action: 'refresh-addresses', label: 'Refresh addresses', done: 'Addresses refreshed.', title: 'Refresh the addresses?', text: 'Parley reads the host’s addresses and the configured public address again; media announces them to new connections.' },
];

/** The media service: its state, its workers, and start / stop / restart / refresh addresses. */
export function ServicePage() {
  const service = usePoll(() => api.get<ServiceState>('/service'), 3000);
  const confirm = useConfirm();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ text?: string; error?: string }>({});
  const s = service.data;

  const run = (a: (typeof ACTIONS)[number]) => confirm.ask({
    title: a.title, text: a.text, confirmLabel: a.label,
    onConfirm: async () => {
      setBusy(true);
      setOutcome({ text: `${a.label}: working…` });
      try {
        await api.post('/service', { action: a.action });
        setOutcome({ text: a.done });
      } catch (error) {
        setOutcome({ error: `${a.label} failed: ${failure(error)}` });
      } finally {
        setBusy(false);
        await service.refresh();
      }
    },
  });

  return (
    <>
      <Outcome text={outcome.text} error={outcome.error ?? service.error} />
      {!s ? <p class="hint">Loading…</p> : (
        <section class="panel-card" aria-labelledby="service-state">
          <h2 id="service-state">State</h2>
          <dl class="facts">
            <dt>Joins</dt><dd><span class={`tag ${s.running ? 'ok' : 'bad'}`}>{s.running ? 'working' : 'refused'}</span></dd>
            <dt>Switched on</dt><dd>{s.enabled ? 'yes' : 'no (stopped by the operator or an account)'}</dd>
            <dt>Media workers</dt>
            <dd>{s.media ? `${s.media.state}: ${s.media.alive} of ${s.media.workers} alive` : 'none (MEDIA_WORKERS=0)'}</dd>
            {s.media?.error && <><dt>Last failure</dt><dd class="error-text">{s.media.error}</dd></>}
            <dt>Announced addresses</dt><dd>{s.addresses?.length ? s.addresses.join(', ') : 'none'}</dd>
          </dl>
        </section>
      )}
      <section class="panel-card" aria-labelledby="service-actions">
        <h2 id="service-actions">Control</h2>
        <div class="button-row">
          {ACTIONS.map((a) => (
            <button key={a.action} type="button" class={`button${a.danger ? ' danger' : ''}`} disabled={busy} onClick={() => run(a)}>{a.label}</button>
          ))}
        </div>
      </section>
      {confirm.dialog}
    </>
  );
}
