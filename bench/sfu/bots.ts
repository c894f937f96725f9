// The bots' side of bench/sfu.ts: a bot host whose publishers send a fixed video bitrate, the
// plan of a meeting (who publishes, who receives), and what the bots saw in a time window.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { UdpReceiveDrops } from '../../src/media/udp-buffers.js';
import { BotHost, type BotStats } from '../../test/media/helpers/bots.js';

/** Who is in a meeting: every subscriber receives every publisher except itself. */
export interface Plan {
  publishers: string[];
  subscribers: string[];
}

/** One server under test. */
export interface Target {
  name: 'parley' | 'janus';
  pid: number;
  /** Joins the plan's bots (publishers first) and resolves when every bot has negotiated. */
  join(host: BotHost, plan: Plan): Promise<{ close(): Promise<void> }>;
}

/** Number of video streams `bot` should receive. */
export const expectedStreams = (plan: Plan, bot: string): number => plan.publishers.filter((p) => p !== bot).length;

/** CPU seconds of a whole process, every thread included (utime + stime, USER_HZ = 100). */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Makes the publisher encode at `kbps`: libwebrtc's bandwidth estimate alone (no REMB from
 * Parley, a capped one from Janus) would keep it far lower, and differently per server.
 */
export function fixVideoBitrate(sdp: string, kbps: number): string {
  const sections = sdp.split(/(?=\r\nm=)/);
  return sections.map((section) => {
    if (!section.startsWith('\r\nm=video')) return section;
    const pt = /a=rtpmap:(\d+) VP8\/90000/.exec(section)?.[1];
    if (!pt) return section;
    const params = `x-google-min-bitrate=${kbps};x-google-start-bitrate=${kbps};x-google-max-bitrate=${kbps}`;
    const fmtp = new RegExp(`a=fmtp:${pt} ([^\\r\\n]*)`);
    if (fmtp.test(section)) return section.replace(fmtp, (_, rest: string) => `a=fmtp:${pt} ${rest};${params}`);
    return section.replace(new RegExp(`(a=rtpmap:${pt} VP8/90000)`), `$1\r\na=fmtp:${pt} ${params}`);
  }).join('');
}

/** A bot host (see test/media/bots/bot-host.mjs) whose publishers send `kbps` of noise video. */
export class BenchBotHost extends BotHost {
  constructor(private readonly kbps: number, env: { BOT_WIDTH: string; BOT_HEIGHT: string; BOT_FPS: string }) {
    // Half a 320x240@15 picture of noise fills 1.5 Mbit/s at full frame rate (measured); less
    // noise for less bitrate, or the encoder drops frames to stay under it.
    const pixelsPerSecond = Number(env.BOT_WIDTH) * Number(env.BOT_HEIGHT) * Number(env.BOT_FPS);
    super({ BOT_NOISE: String(Math.min(1, ((0.5 * kbps) / 1500) * ((320 * 240 * 15) / pixelsPerSecond))), ...env });
  }

  override answer(bot: string, sdp: string): Promise<void> {
    return super.answer(bot, fixVideoBitrate(sdp, this.kbps));
  }

  /**
   * Lowers every thread of the bot process to nice 10: on 2 cores the servers then get the CPU
   * they ask for, and what they use is what they need, not what the bots left them.
   */
  deprioritize(): void {
    // One renice per thread: a thread that ended meanwhile fails alone (and does not matter).
    for (const tid of readdirSync(`/proc/${this.pid}/task`)) spawnSync('renice', ['-n', '10', '-p', tid], { stdio: 'ignore' });
  }
}

/** Busy and total CPU seconds of the whole machine (/proc/stat), to tell when it was saturated. */
function machineCpuSeconds(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3]! - ticks[4]!, total: total / 100 }; // minus idle and iowait
}

export interface Snapshot {
  at: number;
  cpu: number;
  botCpu: number;
  /** datagrams dropped at full receive buffers of the server's sockets and the bots' so far */
  serverDrops: number;
  botDrops: number;
  machine: { busy: number; total: number };
  stats: Map<string, BotStats>;
  frames: Map<string, Record<string, number>>;
}

/**
 * Datagrams the kernel dropped at a process's full UDP receive buffers so far: the share of the
 * loss that happened at that process (it did not read fast enough). One counter per process.
 */
const drops = new Map<number, UdpReceiveDrops>();
function socketDrops(pid: number): number {
  if (!drops.has(pid)) drops.set(pid, new UdpReceiveDrops(`/proc/${pid}`));
  return drops.get(pid)!.read() ?? 0;
}

export async function snapshot(host: BotHost, pid: number, plan: Plan): Promise<Snapshot> {
  const names = [...new Set([...plan.publishers, ...plan.subscribers])];
  const stats = new Map<string, BotStats>();
  const frames = new Map<string, Record<string, number>>();
  for (const n of names) {
    stats.set(n, await host.stats(n));
    frames.set(n, await host.frames(n));
  }
  return {
    at: performance.now(), cpu: processCpuSeconds(pid), botCpu: processCpuSeconds(host.pid),
    serverDrops: socketDrops(pid), botDrops: socketDrops(host.pid), machine: machineCpuSeconds(), stats, frames,
  };
}

export interface Window {
  seconds: number;
  /** server process CPU, % of one core */
  cpuPercent: number;
  /** the bot process's CPU, % of one core, and how busy the whole machine was (% of all cores) */
  botCpuPercent: number;
  machineBusyPercent: number;
  /** video bitrate each publisher sent (mean), Mbit/s, and its frame rate */
  publishedMbps: number;
  publishedFps: number;
  /** video streams received by all subscribers together (those that got packets) */
  streamsFlowing: number;
  /** packets (audio + video) all subscribers received per second, and what that is in Mbit/s */
  receivedPps: number;
  receivedMbps: number;
  /** % of packets lost as the subscribers count them (RTCInboundRtpStats.packetsLost) */
  videoLossPercent: number;
  audioLossPercent: number;
  /** packets the subscribers counted as lost (audio + video) */
  lostPackets: number;
  /**
   * Datagrams the kernel dropped at full receive buffers: at the server's sockets (it fell behind
   * reading what publishers and subscribers sent) and at the bots' (they fell behind).
   */
  serverSocketDrops: number;
  botSocketDrops: number;
  /** frames decoded per subscriber per received video stream, per second: mean and worst */
  deliveredFps: number;
  worstDeliveredFps: number;
}

export function compare(plan: Plan, a: Snapshot, b: Snapshot): Window {
  const seconds = (b.at - a.at) / 1000;
  let sentBytes = 0;
  let encoded = 0;
  for (const p of plan.publishers) {
    const out = (s: Snapshot) => s.stats.get(p)!.outbound.find((o) => o.kind === 'video');
    sentBytes += (out(b)?.bytesSent ?? 0) - (out(a)?.bytesSent ?? 0);
    encoded += (out(b)?.framesEncoded ?? 0) - (out(a)?.framesEncoded ?? 0);
  }
  let packets = 0;
  let bytes = 0;
  const lost = { audio: 0, video: 0 };
  const got = { audio: 0, video: 0 };
  let streams = 0;
  const fps: number[] = [];
  for (const s of plan.subscribers) {
    const before = new Map(a.stats.get(s)!.inbound.map((i) => [`${i.kind}${i.mid}`, i]));
    let frames = 0;
    for (const i of b.stats.get(s)!.inbound) {
      const o = before.get(`${i.kind}${i.mid}`);
      const dp = i.packetsReceived - (o?.packetsReceived ?? 0);
      packets += dp;
      bytes += i.bytesReceived - (o?.bytesReceived ?? 0);
      got[i.kind] += dp;
      lost[i.kind] += Math.max(0, i.packetsLost - (o?.packetsLost ?? 0));
      if (i.kind === 'video' && dp > 0) streams++;
      if (i.kind === 'video') frames += i.framesDecoded - (o?.framesDecoded ?? 0);
    }
    fps.push(frames / Math.max(1, expectedStreams(plan, s)) / seconds);
  }
  const pct = (l: number, g: number) => (g + l > 0 ? (l / (g + l)) * 100 : 0);
  return {
    seconds,
    cpuPercent: ((b.cpu - a.cpu) / seconds) * 100,
    botCpuPercent: ((b.botCpu - a.botCpu) / seconds) * 100,
    machineBusyPercent: ((b.machine.busy - a.machine.busy) / 100 / (b.machine.total - a.machine.total)) * 100,
    publishedMbps: (sentBytes * 8) / 1e6 / seconds / Math.max(1, plan.publishers.length),
    publishedFps: encoded / seconds / Math.max(1, plan.publishers.length),
    streamsFlowing: streams,
    receivedPps: packets / seconds,
    receivedMbps: (bytes * 8) / 1e6 / seconds,
    videoLossPercent: pct(lost.video, got.video),
    audioLossPercent: pct(lost.audio, got.audio),
    lostPackets: lost.audio + lost.video,
    serverSocketDrops: b.serverDrops - a.serverDrops,
    botSocketDrops: b.botDrops - a.botDrops,
    deliveredFps: fps.length ? fps.reduce((x, y) => x + y, 0) / fps.length : 0,
    worstDeliveredFps: fps.length ? Math.min(...fps) : 0,
  };
}

/** Polls until every subscriber decodes frames on every stream it should get, or `ms` pass. */
export async function waitFlowing(host: BotHost, plan: Plan, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    let all = true;
    for (const s of plan.subscribers) {
      const f = await host.frames(s);
      if (Object.values(f).filter((n) => n > 0).length < expectedStreams(plan, s)) {
        all = false;
        break;
      }
    }
    if (all) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}
