// The tables bench/sfu.ts prints.
import type { RunResult, Summary } from './run.js';

const f = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function printResults(
  runs: RunResult[],
  summary: Summary,
  info: { started: Date; seconds: number; kbps: number; meshKbps: number; video: Record<string, string> },
): void {
  console.log(`\nbench:sfu ${info.started.toISOString()}: ${info.seconds} s per run; bots send ${info.video.BOT_WIDTH}x${info.video.BOT_HEIGHT}@${info.video.BOT_FPS} noise VP8 ` +
    `at ${info.kbps} kbit/s (fan-out) / ${info.meshKbps} kbit/s (N-to-N) + Opus; Parley has one media worker.`);
  console.log('CPU: the server process, all threads, % of one core. "streams": video streams forwarded (each with its audio).');
  console.log('Loss and frames are what the subscribing bots saw; when the machine is ~100% busy the bots (nice 10) fall behind, not only the server.');
  console.log('"lost / dropped at …": packets the bots counted lost, and datagrams the kernel dropped at full receive buffers of the server\'s and the bots\' sockets.\n');
  const rows = runs.map((r) => {
    const w = r.window;
    const per = summary.servers[r.server]?.perForwardedByRun[r.scenario];
    return [
      r.scenario, r.server, String(r.forwarded), `${w.streamsFlowing}${r.flowing ? '' : ' (!)'}`, f(w.publishedMbps, 2), f(w.cpuPercent),
      f(per, 2), f(w.receivedPps, 0), f(summary.servers[r.server]?.packetsPerCore[r.scenario], 0),
      f(w.videoLossPercent, 3), f(w.audioLossPercent, 3), `${w.lostPackets} / ${w.serverSocketDrops} / ${w.botSocketDrops}`, `${f(w.deliveredFps)} / ${f(w.worstDeliveredFps)} of ${f(w.publishedFps)}`,
      f(w.botCpuPercent, 0), f(w.machineBusyPercent, 0),
    ];
  });
  console.log(table(
    ['run', 'server', 'streams', 'flowing', 'Mbit/s per pub', 'CPU %', 'CPU %/fwd stream', 'pkt/s fwd', 'pkt/s per core', 'video loss %', 'audio loss %', 'lost / dropped at server / at bots', 'fps per stream: mean / worst of sent', 'bots CPU %', 'machine busy %'],
    rows,
  ));

  console.log('\nParley / Janus, server CPU per run:');
  console.log(table(['run', 'Parley CPU %', 'Janus CPU %', 'Parley / Janus'], Object.entries(summary.ratios.byRun).map(([id, ratio]) => {
    const cpu = (s: string) => runs.find((r) => r.scenario === id && r.server === s)?.window.cpuPercent;
    return [id, f(cpu('parley')), f(cpu('janus')), f(ratio, 2)];
  })));

  const p = summary.servers.parley;
  const j = summary.servers.janus;
  console.log('\nPer stream (% of one core):');
  console.log(table(['', 'Parley', 'Janus', 'Parley / Janus', 'target'], [
    ['idle', f(p?.idleCpuPercent, 2), f(j?.idleCpuPercent, 2), '', ''],
    [`per published stream (publish 4 − idle) / 4 at ${info.kbps} kbit/s`, f(p?.perPublishedPercent, 2), f(j?.perPublishedPercent, 2), f(summary.ratios.perPublished, 2),
      `≤ 1.5: ${verdict(summary.targets.publishedRatioAtMost1_5)}`],
    ['per forwarded stream (slope over 1 → N)', f(p?.perForwardedPercent, 2), f(j?.perForwardedPercent, 2), f(summary.ratios.perForwarded, 2),
      `≤ 1.0: ${verdict(summary.targets.forwardedRatioAtMost1)}`],
  ]));
  const t = summary.targets.noLossAt50;
  if (t) {
    console.log(`\nNo loss at ${t.scenario} on one Parley media worker: ${verdict(t.met)} ` +
      `(video loss ${f(t.videoLossPercent, 3)}%, audio loss ${f(t.audioLossPercent, 3)}%, ${t.streamsFlowing} streams flowing; ` +
      `${t.lostPackets} packets lost, ${t.serverSocketDrops} datagrams dropped at the server's sockets, ${t.botSocketDrops} at the bots')`);
    if (!t.met) console.log(t.lossAtBots ? 'The loss happened at the bots: the server\'s sockets dropped nothing, the bots\' full buffers account for every lost packet.'
      : 'The loss is not all at the bots: the server dropped datagrams, or lost more than the bots\' buffers dropped.');
  }
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'MET' : 'MISSED');
