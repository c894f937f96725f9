/**
 * npm run bench:cluster — several nodes on this machine, sharing one PostgreSQL and one Redis
 * that this starts: the rate of join requests (admission, placement, token) through all nodes
 * and how the meetings spread, and the native API's read throughput, with 1, 2 and 3 nodes.
 *
 * One machine cannot show scaling: every node, PostgreSQL and Redis share the same cores, so more
 * nodes mean more processes competing for them. What it shows is the cost of coordination (Redis
 * round trips per join and per request) and that placement spreads meetings evenly.
 */
import autocannon from 'autocannon';
import { TestCluster } from '../test/cluster/nodes.js';

const MEETINGS = 60;
const DURATION = 5;
const CONNECTIONS = 24;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers

async function measure(nodes: number) {
  // No API rate limit: the benchmark is the only client.
  const cluster = await TestCluster.start(nodes, { RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'error' });
  try {
    const auth = { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' };
    const codes: string[] = [];
    for (let i = 0; i < MEETINGS; i++) {
      const res = await fetch(`${cluster.nodes[i % nodes]!.url}/api/v1/meetings`, { method: 'POST', headers: auth, body: JSON.stringify({ title: `Bench ${i}` }) });
      codes.push(((await res.json()) as Json).links.meeting.split('/').pop());
    }
    // Joins: one first join per meeting (each places it), 8 at a time, round-robin over the nodes.
    const spread = new Map<string, number>();
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < codes.length) {
        const i = next++;
        const res = await fetch(`${cluster.nodes[i % nodes]!.url}/rtc/join`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: { kind: 'public', code: codes[i] }, name: `P${i}` }),
        });
        const body = (await res.json()) as Json;
        const id = cluster.nodeAt(body.nodeUrl)?.id ?? 'none';
        spread.set(id, (spread.get(id) ?? 0) + 1);
      }
    }));
    const joinsPerSecond = Math.round(MEETINGS / ((performance.now() - started) / 1000));
    // API reads: the connections split over the nodes, all at once.
    const meeting = ((await (await fetch(`${cluster.nodes[0]!.url}/api/v1/meetings?limit=1`, { headers: auth })).json()) as Json).data[0].id as string;
    const runs = await Promise.all(cluster.nodes.map((n) => autocannon({
      url: `${n.url}/api/v1/meetings/${meeting}`, headers: { authorization: `Bearer ${cluster.token}` },
      connections: Math.max(1, Math.floor(CONNECTIONS / nodes)), duration: DURATION,
    })));
    const apiRps = Math.round(runs.reduce((n, r) => n + r.requests.average, 0));
    const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
    return { nodes, joinsPerSecond, spread: Object.fromEntries([...spread].sort()), apiRps, non2xx };
  } finally {
    await cluster.stop();
  }
}

const results = [];
for (const n of [1, 2, 3]) {
  const r = await measure(n);
  results.push(r);
  console.log(`${n} node(s): ${r.joinsPerSecond} joins/s (placement ${JSON.stringify(r.spread)}), API GET meeting ${r.apiRps} req/s${r.non2xx ? ` (${r.non2xx} non-2xx)` : ''}`);
}
console.log('\nOne machine: every node, PostgreSQL and Redis share its cores; this measures coordination cost and spread, not scaling.');
