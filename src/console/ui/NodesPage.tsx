import { api } from '../api.ts';
import type { ClusterNode } from '../types.ts';
import { Outcome } from './confirm.tsx';
import { usePoll } from './poll.ts';

const percent = (x: number) => `${Math.round(x * 100)} %`;

/** The cluster: every live node, its state and load, and the meetings whose room runs there. */
export function NodesPage() {
  const nodes = usePoll(() => api.get<{ clustered: boolean; data: ClusterNode[] }>('/nodes'), 3000);
  const view = nodes.data;
  return (
    <>
      <Outcome error={nodes.error} />
      {!view ? <p class="hint">Loading…</p> : !view.clustered ? (
        <p class="hint">One node: this server runs every meeting (no REDIS_URL; see the cluster documentation to run several).</p>
      ) : (
        <ul class="live-list">
          {view.data.map((n) => (
            <li key={n.id}>
              <section class="panel-card" aria-labelledby={`node-${n.id}`}>
                <h2 id={`node-${n.id}`}>{n.id} <span class={`tag ${n.state === 'live' ? 'ok' : 'bad'}`}>{n.state}</span></h2>
                <dl class="facts">
                  <dt>Address</dt><dd>{n.url}</dd>
                  <dt>Load</dt><dd>{n.participants} people · {n.streams} streams · CPU {percent(n.cpu)} · media event loop {percent(n.eventLoop)}</dd>
                  <dt>Last heartbeat</dt><dd>{new Date(n.seenAt).toLocaleTimeString()}</dd>
                  <dt>Meetings</dt>
                  <dd>{n.meetings.length === 0 ? 'none' : n.meetings.map((m) => m.title || m.id).join(', ')}</dd>
                </dl>
              </section>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
