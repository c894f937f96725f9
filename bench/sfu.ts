/**
 * npm run bench:sfu — Parley's SFU beside Janus 1.1.2 under the same bots and load (issue 9).
 *
 * Headless @roamhq/wrtc bots publish noise video at a fixed bitrate (VP8, x-google-*-bitrate in
 * the answer) plus Opus, and subscribe; each scenario runs on Parley (`parley serve`, one media
 * worker) and on Janus (VideoRoom), one after the other, each with a fresh bot process reniced
 * to 10. The server's CPU is its whole process (/proc/<pid>/stat, every thread). Scenarios:
 * 4 publishers and nobody watching (the cost of a published stream), 1 → N fan-out for N in
 * SIZES and BIG_FANOUT (the cost of a forwarded stream: the slope over N), N-to-N for N in SIZES.
 *
 * Everything runs in a network namespace the bench makes (`unshare -n`, root), where a veth holds
 * 127.0.0.1/32 so that Janus, which skips loopback interfaces, gathers a candidate; both servers
 * announce 127.0.0.1. No STUN/TURN, no mDNS; every wait is bounded.
 *
 * Environment (defaults): SFU_BENCH_SECONDS (10) measured per run, SFU_BENCH_WARMUP (3),
 * SFU_BENCH_KBPS (1500) video per publisher in fan-outs, SFU_BENCH_MESH_KBPS (250) in N-to-N,
 * SFU_BENCH_SIZES (4,8,12), SFU_BENCH_BIG_FANOUT (50; 0 skips), SFU_BENCH_SERVERS (parley,janus),
 * SFU_BENCH_VIDEO (320x240@15: bots encode noise, so bitrate and not size sets the load),
 * SFU_BENCH_CPU_PROF (a directory: Parley runs with node --cpu-prof, one file per thread),
 * SFU_BENCH_ONLY (a regular expression: only the scenarios whose name matches, e.g. '^publish').
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { janusMissing, startJanus } from './sfu/janus.js';
import { startParley } from './sfu/parley.js';
import { runScenario, scenarios, summarize, type RunResult } from './sfu/run.js';
import { printResults } from './sfu/report.js';
import { processCpuSeconds, type Target } from './sfu/bots.js';

const ROOT = new URL('..', import.meta.url).pathname;
const env = process.env;
const IFACE = 'sfub0';
const IP = '127.0.0.1';
const servers = (env.SFU_BENCH_SERVERS ?? 'parley,janus').split(',');

if (env.SFU_BENCH_IN_NS !== '1') {
  if (process.getuid?.() !== 0) {
    console.error('bench:sfu makes its own network namespace (unshare -n, a veth): run it as root');
    process.exit(2);
  }
  const missing = servers.includes('janus') ? janusMissing() : undefined;
  if (missing) {
    console.error(`bench:sfu: ${missing}`);
    process.exit(2);
  }
  // The namespace lives as long as this child: nothing the bench starts is reachable from outside.
  const setup = [
    'ip link set lo up',
    `ip link add ${IFACE} type veth peer name sfub1`,
    `ip addr add ${IP}/32 dev ${IFACE}`,
    `ip link set ${IFACE} up`, 'ip link set sfub1 up',
    'sysctl -q -w net.ipv6.conf.all.disable_ipv6=1',
  ].join(' && ');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `${setup} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, process.argv[1]!], {
    stdio: 'inherit', env: { ...env, SFU_BENCH_IN_NS: '1' },
  });
  process.exit(r.status ?? 1);
}

const seconds = Number(env.SFU_BENCH_SECONDS ?? 10);
const warmup = Number(env.SFU_BENCH_WARMUP ?? 3);
const kbps = Number(env.SFU_BENCH_KBPS ?? 1500);
const meshKbps = Number(env.SFU_BENCH_MESH_KBPS ?? 250);
const sizes = (env.SFU_BENCH_SIZES ?? '4,8,12').split(',').map(Number);
const bigFanout = Number(env.SFU_BENCH_BIG_FANOUT ?? 50);
const [, width, height, fps] = /^(\d+)x(\d+)@(\d+)$/.exec(env.SFU_BENCH_VIDEO ?? '320x240@15') ?? [];
const botEnv = { BOT_WIDTH: width ?? '320', BOT_HEIGHT: height ?? '240', BOT_FPS: fps ?? '15' };
const profDir = env.SFU_BENCH_CPU_PROF;
const only = env.SFU_BENCH_ONLY ? new RegExp(env.SFU_BENCH_ONLY) : undefined;

const targets: (Target & { stop(): Promise<void> })[] = [];
// A hard bound on the whole run: whatever hangs, the servers and the bench end.
const watchdog = setTimeout(() => {
  console.error('bench:sfu: over its time budget, stopping');
  for (const t of targets) process.kill(t.pid, 'SIGKILL');
  process.exit(3);
}, Number(env.SFU_BENCH_MAX_SECONDS ?? 1200) * 1000);
watchdog.unref();

const started = new Date();
try {
  if (servers.includes('parley')) targets.push(await startParley(IP, profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []));
  if (servers.includes('janus')) targets.push(await startJanus(IFACE, Math.max(kbps, meshKbps) + 500));
  // What each server uses doing nothing, subtracted before dividing by streams.
  const idle: Record<string, number> = {};
  const c0 = targets.map((t) => processCpuSeconds(t.pid));
  await new Promise((r) => setTimeout(r, 5000));
  targets.forEach((t, i) => (idle[t.name] = ((processCpuSeconds(t.pid) - c0[i]!) / 5) * 100));

  const runs: RunResult[] = [];
  const list = scenarios(sizes, bigFanout, kbps, meshKbps).filter((s) => !only || only.test(s.id));
  for (const [i, scenario] of list.entries()) {
    // Alternate which server goes first: this machine's speed drifts.
    const order = i % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      process.stdout.write(`${scenario.id} on ${target.name}… `);
      let r: RunResult;
      try {
        r = await runScenario(target, scenario, { seconds, warmup, botEnv });
      } catch (error) {
        console.log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      console.log(r.flowing ? `${r.window.cpuPercent.toFixed(1)}% CPU` : `NOT FLOWING (${r.window.streamsFlowing}/${scenario.forwarded} streams)`);
      runs.push(r);
    }
  }
  const summary = summarize(runs, idle);
  printResults(runs, summary, { started, seconds, kbps, meshKbps, video: botEnv });
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `sfu-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    at: started.toISOString(), config: { seconds, warmup, kbps, meshKbps, sizes, bigFanout, video: botEnv, parleyMediaWorkers: 1 },
    idleCpuPercent: idle, runs, summary,
  }, null, 2));
  console.log(`results written to ${file}`);
} finally {
  for (const t of targets) await t.stop().catch((e: unknown) => console.error(`stopping ${t.name}: ${String(e)}`));
  clearTimeout(watchdog);
}
