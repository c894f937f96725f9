// The scenarios of bench/sfu.ts, one measured run of a scenario on a server, and the per-stream
// costs derived from all runs.
import { BenchBotHost, compare, snapshot, waitFlowing, type Plan, type Target, type Window } from './bots.js';

export interface Scenario {
  id: string;
  kind: 'publish' | 'fanout' | 'mesh';
  n: number;
  plan: Plan;
  kbps: number;
  /** video streams the server forwards (each with its audio) */
  forwarded: number;
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

export function scenarios(sizes: number[], bigFanout: number, kbps: number, meshKbps: number): Scenario[] {
  // Published streams alone, at each bitrate the other runs use.
  const list: Scenario[] = [...new Set([kbps, meshKbps])].map((k) => ({
    id: `publish 4 @${k}`, kind: 'publish' as const, n: 4, plan: { publishers: names('p', 4), subscribers: [] }, kbps: k, forwarded: 0,
  }));
  for (const n of [...sizes, ...(bigFanout > 0 ? [bigFanout] : [])]) {
    list.push({ id: `1→${n}`, kind: 'fanout', n, plan: { publishers: ['p1'], subscribers: names('s', n) }, kbps, forwarded: n });
  }
  for (const n of sizes) {
    const all = names('m', n);
    list.push({ id: `${n}-to-${n}`, kind: 'mesh', n, plan: { publishers: all, subscribers: all }, kbps: meshKbps, forwarded: n * (n - 1) });
  }
  return list;
}

export interface RunResult {
  scenario: string;
  kind: Scenario['kind'];
  n: number;
  kbps: number;
  server: Target['name'];
  forwarded: number;
  flowing: boolean;
  window: Window;
}

export async function runScenario(target: Target, s: Scenario, opts: { seconds: number; warmup: number; botEnv: { BOT_WIDTH: string; BOT_HEIGHT: string; BOT_FPS: string } }): Promise<RunResult> {
  const host = new BenchBotHost(s.kbps, opts.botEnv);
  let joined: { close(): Promise<void> } | undefined;
  try {
    host.deprioritize();
    joined = await target.join(host, s.plan);
    host.deprioritize(); // threads the bots started since
    const flowing = s.plan.subscribers.length === 0 || (await waitFlowing(host, s.plan, 30_000));
    await new Promise((r) => setTimeout(r, opts.warmup * 1000));
    const a = await snapshot(host, target.pid, s.plan);
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const b = await snapshot(host, target.pid, s.plan);
    return { scenario: s.id, kind: s.kind, n: s.n, kbps: s.kbps, server: target.name, forwarded: s.forwarded, flowing, window: compare(s.plan, a, b) };
  } finally {
    await joined?.close().catch(() => undefined);
    await host.quit();
    // Let the server let go of the transports before the next run is measured.
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export interface ServerSummary {
  idleCpuPercent: number;
  /** (CPU of "publish 4" − idle) / 4 at the fan-out bitrate, % of a core */
  perPublishedPercent?: number;
  /** least-squares slope of CPU over N in the 1 → N runs, % of a core */
  perForwardedPercent?: number;
  /** per scenario: (CPU − idle − publishers × perPublished) / forwarded streams */
  perForwardedByRun: Record<string, number>;
  /** packets the subscribers received per second per core the server used, per scenario */
  packetsPerCore: Record<string, number>;
}

export interface Summary {
  servers: Record<string, ServerSummary>;
  ratios: { perPublished?: number; perForwarded?: number; byRun: Record<string, number> };
  targets: { forwardedRatioAtMost1?: boolean; publishedRatioAtMost1_5?: boolean; noLossAt50?: { met: boolean; scenario: string; videoLossPercent: number; audioLossPercent: number; streamsFlowing: number; lostPackets: number; serverSocketDrops: number; botSocketDrops: number; lossAtBots: boolean } };
}

function slope(points: [number, number][]): number | undefined {
  if (points.length < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den > 0 ? num / den : undefined;
}

export function summarize(runs: RunResult[], idle: Record<string, number>): Summary {
  const servers: Record<string, ServerSummary> = {};
  for (const name of new Set(runs.map((r) => r.server))) {
    const mine = runs.filter((r) => r.server === name);
    const base = idle[name] ?? 0;
    const publishedAt = (kbps: number) => {
      const pub = mine.find((r) => r.kind === 'publish' && r.kbps === kbps);
      return pub ? (pub.window.cpuPercent - base) / pub.n : undefined;
    };
    const fanout = mine.find((r) => r.kind === 'fanout');
    const perPublished = fanout ? publishedAt(fanout.kbps) : undefined;
    const perForwardedByRun: Record<string, number> = {};
    const packetsPerCore: Record<string, number> = {};
    for (const r of mine.filter((x) => x.forwarded > 0)) {
      const publishers = r.kind === 'mesh' ? r.n : 1;
      perForwardedByRun[r.scenario] = (r.window.cpuPercent - base - publishers * (publishedAt(r.kbps) ?? 0)) / r.forwarded;
      packetsPerCore[r.scenario] = r.window.receivedPps / (r.window.cpuPercent / 100);
    }
    servers[name] = {
      idleCpuPercent: base,
      perPublishedPercent: perPublished,
      perForwardedPercent: slope(mine.filter((r) => r.kind === 'fanout').map((r) => [r.n, r.window.cpuPercent])),
      perForwardedByRun,
      packetsPerCore,
    };
  }
  const p = servers.parley;
  const j = servers.janus;
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const byRun: Record<string, number> = {};
  for (const r of runs.filter((x) => x.server === 'parley')) {
    const other = runs.find((x) => x.server === 'janus' && x.scenario === r.scenario);
    const v = ratio(r.window.cpuPercent, other?.window.cpuPercent);
    if (v !== undefined) byRun[r.scenario] = v;
  }
  const ratios = { perPublished: ratio(p?.perPublishedPercent, j?.perPublishedPercent), perForwarded: ratio(p?.perForwardedPercent, j?.perForwardedPercent), byRun };
  // The case: one 1.5 Mbit/s stream forwarded 50 times (a fan-out, not the N-to-N runs).
  const big = runs.filter((r) => r.server === 'parley' && r.kind === 'fanout' && r.forwarded >= 50).sort((a, b) => a.forwarded - b.forwarded)[0];
  return {
    servers,
    ratios,
    targets: {
      forwardedRatioAtMost1: ratios.perForwarded === undefined ? undefined : ratios.perForwarded <= 1.0,
      publishedRatioAtMost1_5: ratios.perPublished === undefined ? undefined : ratios.perPublished <= 1.5,
      noLossAt50: big && {
        met: big.flowing && big.window.streamsFlowing >= big.forwarded && big.window.videoLossPercent === 0 && big.window.audioLossPercent === 0,
        scenario: big.scenario,
        videoLossPercent: big.window.videoLossPercent,
        audioLossPercent: big.window.audioLossPercent,
        streamsFlowing: big.window.streamsFlowing,
        lostPackets: big.window.lostPackets,
        serverSocketDrops: big.window.serverSocketDrops,
        botSocketDrops: big.window.botSocketDrops,
        // The server's sockets dropped nothing and the bots' full buffers dropped at least as many
        // datagrams as the bots counted lost: the loss happened at the bots, not in the server.
        lossAtBots: big.window.serverSocketDrops === 0 && big.window.lostPackets <= big.window.botSocketDrops,
      },
    },
  };
}
