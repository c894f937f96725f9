// Recording costs, in two parts.
//
// 1. Worker CPU per recorded track: N bots (audio + 320x240@15 video) in one room on one worker,
//    measured for S seconds while only forwarded, then S seconds while every published track is
//    also recorded (alternating, R rounds; medians: this machine's speed drifts). The difference
//    per recorded track is compared with the cost of receiving and forwarding that track.
// 2. Composition speed: a 4-person meeting of M minutes, synthesized with ffmpeg (VP8/Opus WebM
//    per person, as the worker writes them), composed into the MP4 by the job's own command.
//
//   npx tsx bench/recording.ts [bots=3] [seconds=10] [rounds=3] [minutes=10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaService } from '../src/media/index.js';
import { composeArgs, DEFAULT_COMPOSE, type ComposeInput } from '../src/recording/layout.js';
import { BotHost, joinBot, waitFor, type JoinedBot } from '../test/media/helpers/bots.js';

const bots = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const rounds = Number(process.argv[4] ?? 3);
const minutes = Number(process.argv[5] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-rec-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function workerCpu(): Promise<void> {
  const svc = new MediaService({ workers: 1, listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [] });
  await svc.start();
  const room = await svc.openRoom('bench');
  const host = new BotHost();
  const joined: JoinedBot[] = [];
  try {
    for (let i = 0; i < bots; i++) joined.push(await joinBot(room, host, `bot${i}`, { loud: true }));
    const flowing = await waitFor(async () => {
      const frames = await Promise.all(joined.map((b) => host.frames(b.name)));
      return frames.every((f) => Object.values(f).filter((n) => n > 0).length >= bots - 1);
    }, 20_000, 250);
    if (!flowing) throw new Error('media did not start flowing');
    /** Worker CPU (% of a core) and packets in/s over `seconds`. */
    const measure = async () => {
      const [a] = await svc.stats();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const [b] = await svc.stats();
      const wall = (performance.now() - t0) / 1000;
      return { cpu: ((b!.cpuSeconds! - a!.cpuSeconds!) / wall) * 100, pktIn: (b!.packetsIn - a!.packetsIn) / wall };
    };
    const plain: number[] = [];
    const recorded: number[] = [];
    let pktIn = 0;
    for (let r = 0; r < rounds; r++) {
      const p = await measure();
      plain.push(p.cpu);
      pktIn = p.pktIn;
      await room.startRecording(`bench${r}`, join(dir, `raw${r}`));
      recorded.push((await measure()).cpu);
      await room.stopRecording(`bench${r}`);
    }
    const tracks = bots * 2;
    const forwarded = bots * (bots - 1) * 2;
    const base = median(plain);
    const extra = median(recorded) - base;
    console.log(`\n1. ${bots} bots (audio + 320x240@15 video), ${tracks} published tracks, ${forwarded} forwarded, ${pktIn.toFixed(0)} pkt/s in; ${rounds} rounds of ${seconds} s`);
    console.log(`   worker thread CPU, forwarding only: ${plain.map((x) => x.toFixed(1)).join(' / ')}% (median ${base.toFixed(1)}%)`);
    console.log(`   worker thread CPU, also recording every track: ${recorded.map((x) => x.toFixed(1)).join(' / ')}% (median ${median(recorded).toFixed(1)}%)`);
    console.log(`   recording: +${extra.toFixed(1)}% of a core for ${tracks} tracks = +${(extra / tracks).toFixed(2)}% per recorded track`);
    console.log(`   relative to the forwarding load: +${((extra / base) * 100).toFixed(1)}% (${bots} people, each track recorded once and forwarded ${bots - 1} times)`);
  } finally {
    await host.quit();
    await svc.stop();
  }
}

function run(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-800)}`);
  return (performance.now() - t0) / 1000;
}

function composition(): void {
  const s = minutes * 60;
  const colours = ['red', 'green', 'blue', 'yellow'];
  const inputs: ComposeInput[] = [];
  let synth = 0;
  for (const [i, colour] of colours.entries()) {
    const path = join(dir, `p${i}.webm`);
    // A moving test picture on the colour, so the encoders have something to do, and a tone.
    synth += run('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:s=320x240:r=15:d=${s}`, '-f', 'lavfi', '-i', `sine=f=${300 + 100 * i}:r=48000:d=${s}`,
      '-vf', 'drawbox=x=mod(t*40\\,280):y=100:w=40:h=40:c=white:t=fill', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k',
      '-c:a', 'libopus', '-b:a', '32k', path,
    ]);
    inputs.push({ path, group: 'camera', offsetMs: i * 1000, audio: true, video: true });
  }
  const output = join(dir, 'composed.mp4');
  const took = run('ffmpeg', composeArgs(inputs, output, { ...DEFAULT_COMPOSE, durationMs: s * 1000 }));
  console.log(`\n2. composition of a 4-person ${minutes}-minute meeting (synthesized in ${synth.toFixed(0)} s): ${took.toFixed(1)} s, ` +
    `${(s / took).toFixed(2)}× real time, MP4 ${(statSync(output).size / 1e6).toFixed(1)} MB (${DEFAULT_COMPOSE.width}x${DEFAULT_COMPOSE.height}@${DEFAULT_COMPOSE.fps})`);
}

try {
  await workerCpu();
  composition();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
