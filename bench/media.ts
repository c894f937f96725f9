// Media-plane load: N headless bots in one room for S seconds, everyone publishing audio +
// 320x240@15 video and receiving everyone else. Prints the SFU's CPU (this process: the main
// thread and the media worker threads), each worker's event-loop utilization, and the frames
// each bot decoded. The bots run in a child process whose CPU is reported apart.
//
//   npx tsx bench/media.ts [bots=6] [seconds=20] [workers=os.availableParallelism()]
import { readFileSync } from 'node:fs';
import { MediaService } from '../src/media/index.js';
import { BotHost, joinBot, waitFor, type JoinedBot } from '../test/media/helpers/bots.js';

const bots = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 20);
const workers = process.argv[4] ? Number(process.argv[4]) : undefined;

/** CPU seconds used so far by another process (utime + stime from /proc). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, USER_HZ = 100
}

const svc = new MediaService({ workers, listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [] });
await svc.start();
const room = await svc.openRoom('bench');
const host = new BotHost();
const joined: JoinedBot[] = [];
try {
  for (let i = 0; i < bots; i++) joined.push(await joinBot(room, host, `bot${i}`, { loud: i === 0 }));
  const names = joined.map((b) => b.name);
  const flowing = await waitFor(async () => {
    const all = await Promise.all(joined.map((b) => host.frames(b.name)));
    return joined.every((b, i) => names.filter((n) => n !== b.name).every((n) => {
      const cam = b.tracks.find((t) => t.peerId === n && t.source === 'camera');
      return !!cam && (all[i]![cam.mid] ?? 0) > 0;
    }));
  }, 20_000, 250);
  if (!flowing) throw new Error('media did not start flowing for every pair');

  const framesBefore = await Promise.all(joined.map((b) => host.frames(b.name)));
  const encodedBefore = await Promise.all(joined.map((b) => host.stats(b.name)));
  const before = await svc.stats(); // also starts the ELU window
  const cpu0 = process.cpuUsage();
  const bots0 = processCpuSeconds(host.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const botsCpu = processCpuSeconds(host.pid) - bots0;
  const stats = await svc.stats();
  const framesAfter = await Promise.all(joined.map((b) => host.frames(b.name)));
  const encodedAfter = await Promise.all(joined.map((b) => host.stats(b.name)));
  const encoded = (s: { outbound: { kind: string; framesEncoded: number }[] }) =>
    s.outbound.find((o) => o.kind === 'video')?.framesEncoded ?? 0;

  const streams = bots * (bots - 1);
  console.log(`\n${bots} bots, ${streams} forwarded video + ${streams} audio streams, ${wall.toFixed(1)} s, ${stats.length} worker(s)`);
  console.log(
    `SFU process CPU: ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)}% of one core ` +
      `(user ${(cpu.user / 1e6 / wall * 100).toFixed(1)}%, system ${(cpu.system / 1e6 / wall * 100).toFixed(1)}%)`,
  );
  console.log(`bot process CPU: ${((botsCpu / wall) * 100).toFixed(1)}% of one core (encoding + decoding, not the SFU)`);
  for (const w of stats) {
    const b = before.find((x) => x.index === w.index)!;
    const rate = (bytes: number) => ((bytes * 8) / 1e6 / wall).toFixed(2);
    const threadCpu = w.cpuSeconds !== undefined && b.cpuSeconds !== undefined ? `${(((w.cpuSeconds - b.cpuSeconds) / wall) * 100).toFixed(1)}%` : 'n/a';
    console.log(
      `worker ${w.index}: rooms ${w.rooms}, peers ${w.peers}, CPU ${threadCpu} of a core, ELU ${(w.eventLoopUtilization * 100).toFixed(1)}%, ` +
        `RTP in ${rate(w.bytesIn - b.bytesIn)} Mbit/s (${((w.packetsIn - b.packetsIn) / wall).toFixed(0)} pkt/s), ` +
        `out ${rate(w.bytesOut - b.bytesOut)} Mbit/s (${((w.packetsOut - b.packetsOut) / wall).toFixed(0)} pkt/s)`,
    );
  }
  joined.forEach((b, i) => {
    const per = b.tracks
      .filter((t) => t.kind === 'video')
      .map((t) => `${t.peerId}:${(((framesAfter[i]![t.mid] ?? 0) - (framesBefore[i]![t.mid] ?? 0)) / wall).toFixed(1)}`);
    const sent = ((encoded(encodedAfter[i]!) - encoded(encodedBefore[i]!)) / wall).toFixed(1);
    console.log(`${b.name} encoded ${sent} fps; decoded fps per sender: ${per.join(' ')}`);
  });
} finally {
  await host.quit();
  await svc.stop();
}
