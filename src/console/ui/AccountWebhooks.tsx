import { useState } from 'preact/hooks';
import { api, failure } from '../api.ts';
import type { Webhook, WebhookDelivery } from '../types.ts';
import { Outcome } from './confirm.tsx';
import { usePoll } from './poll.ts';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** An account's webhook endpoints, and the deliveries that gave up, to send again. */
export function AccountWebhooks({ accountId, accountName }: { accountId: string; accountName: string }) {
  const path = `/accounts/${encodeURIComponent(accountId)}/webhooks`;
  const endpoints = usePoll(() => api.get<{ data: Webhook[] }>(`${path}?limit=100`), 10_000);
  const [outcome, setOutcome] = useState<{ text?: string; error?: string }>({});

  return (
    <>
      <h3>Webhooks</h3>
      <Outcome text={outcome.text} error={outcome.error ?? endpoints.error} />
      {!endpoints.data ? <p class="hint">Loading…</p> : endpoints.data.data.length === 0 ? <p class="hint">{accountName} has no webhook endpoint.</p> : (
        <ul class="plain-list">
          {endpoints.data.data.map((e) => (
            <li key={e.id}>
              <p><strong>{e.url}</strong> · {e.enabled ? 'enabled' : 'disabled'} · {e.events.join(', ')}</p>
              <FailedDeliveries path={`${path}/${encodeURIComponent(e.id)}`} url={e.url} report={setOutcome} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function FailedDeliveries({ path, url, report }: { path: string; url: string; report: (o: { text?: string; error?: string }) => void }) {
  const failed = usePoll(() => api.get<{ data: WebhookDelivery[] }>(`${path}/deliveries?state=failed&limit=20`), 10_000);
  const redeliver = async (d: WebhookDelivery) => {
    try {
      await api.post(`${path}/deliveries/${encodeURIComponent(d.id)}/redeliver`);
      report({ text: `${d.eventType} is queued for ${url} again.` });
    } catch (error) {
      report({ error: failure(error) });
    }
    await failed.refresh();
  };
  const list = failed.data?.data;
  if (!list) return <p class="hint">Loading deliveries…</p>;
  if (list.length === 0) return <p class="hint">No failed delivery.</p>;
  return (
    <table class="table">
      <caption class="sr-only">Failed deliveries to {url}</caption>
      <thead><tr><th scope="col">Event</th><th scope="col">Created</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Action</th></tr></thead>
      <tbody>
        {list.map((d) => {
          const last = d.attempts.at(-1);
          return (
            <tr key={d.id}>
              <th scope="row">{d.eventType}</th>
              <td>{when(d.createdAt)}</td>
              <td>{d.attempts.length}</td>
              <td>{last ? (last.statusCode !== null ? `HTTP ${last.statusCode}` : last.error ?? '—') : '—'}</td>
              <td><button type="button" class="button small" aria-label={`Send ${d.eventType} again`} onClick={() => void redeliver(d)}>Send again</button></td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
