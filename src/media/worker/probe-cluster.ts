// Probe clusters on a subscriber's downlink: for a moment, padding on top of what flows, each
// packet with a transport-wide sequence number. The browser answers those with transport-cc
// feedback (their arrival times) while its REMB goes on for the media (libwebrtc routes each
// packet by that extension; checked on branch `experiment/twcc-padding`). Whether the burst
// arrived as it was sent says whether the link carries that much more, at once: REMB grows 8% a
// second at most, half a minute from a weak link's rate to three cameras (src/media/README.md).
// Pure: times come from the caller; unit-tested.

/** What a transport-cc feedback says of each sequence number it covers (werift's parse). */
export interface FeedbackLike {
  baseSequenceNumber: number;
  packetStatusCount: number;
  /** multiples of 64 ms */
  referenceTime: number;
  packetChunks: readonly ({ runLength: number; packetStatus: number } | { symbolSize: number; symbolList: readonly number[] })[];
  /** µs, one per received packet in order */
  recvDeltas: readonly { delta: number }[];
}

const RECEIVED_SMALL = 1;
const RECEIVED_LARGE = 2;

/**
 * Sequence number → arrival time (µs from the feedback's own origin), or null: reported lost.
 * werift's `packetResults` cannot be used: it skips status-vector chunks and rounds to ms.
 */
export function feedbackArrivals(fb: FeedbackLike): Map<number, number | null> {
  const statuses: number[] = [];
  for (const chunk of fb.packetChunks) {
    if ('runLength' in chunk) for (let i = 0; i < chunk.runLength; i++) statuses.push(chunk.packetStatus);
    else for (const symbol of chunk.symbolList) statuses.push(chunk.symbolSize === 0 ? (symbol ? RECEIVED_SMALL : 0) : symbol);
  }
  const out = new Map<number, number | null>();
  let at = fb.referenceTime * 64_000;
  let delta = 0;
  for (let i = 0; i < fb.packetStatusCount && i < statuses.length; i++) {
    const seq = (fb.baseSequenceNumber + i) & 0xffff;
    const status = statuses[i];
    if (status !== RECEIVED_SMALL && status !== RECEIVED_LARGE) {
      out.set(seq, null);
      continue;
    }
    const d = fb.recvDeltas[delta++];
    if (!d) break;
    at += d.delta;
    out.set(seq, at);
  }
  return out;
}

/**
 * `unclear`: too little of the padding went out to tell (it goes only between frames), or a
 * queue showed at the end that the second half neither grew nor lost (seen on free links, just
 * after a limit lifted, where waiting 8 s for the next cluster was the longest part of going back up).
 */
export type ProbeVerdict = 'carried' | 'full' | 'unclear';

export interface ProbeOptions {
  durationMs: number;
  /**
   * Only packets sent after this share of the cluster are judged: a shaper lets a burst through
   * at once (the tests' tbf 16 KB), so a constrained link looks free at first.
   */
  judgeAfter: number;
  /** The link is full when the judged packets' one-way delay grows by this much (µs)... */
  delayGrowthUs: number;
  /** ...or this share of them is lost. */
  lossShare: number;
  /** No verdict this long after the cluster's end (ms): the browser does not answer. */
  answerWithinMs: number;
  /** Fewer judged packets than this say nothing (a burst that could not go out between frames). */
  minJudged: number;
}

const DEFAULTS: ProbeOptions = { durationMs: 500, judgeAfter: 0.5, delayGrowthUs: 25_000, lossShare: 0.1, answerWithinMs: 1500, minJudged: 15 };

interface Sent {
  /** µs */
  at: number;
  arrival?: number | null;
}

/** One burst: what was sent (by sequence number) and what the feedback said of it. */
export class ProbeCluster {
  readonly opts: ProbeOptions;
  private readonly sent = new Map<number, Sent>();
  private readonly order: number[] = [];
  private heard = false;
  /** found full while sending (its padding then stopped): it stays so */
  private fullWhileSending = false;

  /** `testedBps`: the video rate the burst tests (what flowed plus the padding); ms clock. */
  constructor(
    readonly testedBps: number,
    readonly paddingBps: number,
    readonly startedAt: number,
    options: Partial<ProbeOptions> = {},
    /** wire size of one packet (bits), for the log */
    private readonly packetBits = 0,
  ) {
    this.opts = { ...DEFAULTS, ...options };
  }

  /** Still sending at `now` (ms)? */
  sending(now: number): boolean {
    return now - this.startedAt < this.opts.durationMs;
  }

  /** A padding packet of the burst went out with this transport-wide sequence number (µs clock). */
  packetSent(seq: number, atUs: number): void {
    this.sent.set(seq, { at: atUs });
    this.order.push(seq);
  }

  /** A transport-cc feedback: arrival times (µs, the browser's origin) or null for lost. */
  feedback(arrivals: ReadonlyMap<number, number | null>): void {
    for (const [seq, arrival] of arrivals) {
      const s = this.sent.get(seq);
      if (s) {
        s.arrival = arrival;
        this.heard = true;
      }
    }
  }

  /**
   * `carried`: the judged packets came as they were sent. `full`: their delay grew or they were
   * lost, or a queue showed while sending (judged as soon as that shows, so that a full link gets
   * less of it). `unclear`: see ProbeVerdict. `undefined`: not yet known. A browser that never
   * answers: `full` (nothing is raised on it).
   */
  verdict(now: number): ProbeVerdict | undefined {
    if (this.fullWhileSending) return 'full';
    const over = !this.sending(now);
    // A queue anywhere: the latest packets' delay above the cluster's lowest (the link's own).
    const queued = this.queueUs() > this.opts.delayGrowthUs;
    const { judged, answered, received } = this.judged();
    const lost = answered.length - received.length;
    const full = answered.length >= 6 && (lost > answered.length * this.opts.lossShare || delayGrowth(received) > this.opts.delayGrowthUs);
    if (full || (queued && !over)) {
      this.fullWhileSending = !over;
      return 'full';
    }
    const late = over && now - this.startedAt - this.opts.durationMs > this.opts.answerWithinMs;
    if (!over || (answered.length < judged.length && !late)) return undefined;
    if (answered.length < judged.length || !this.heard) return 'full'; // not all answered: not carried
    // All answered and no more lost than lossShare (else full above): enough of them to tell?
    if (judged.length >= this.opts.minJudged) return queued ? 'unclear' : 'carried';
    return queued ? 'full' : 'unclear';
  }

  /** What the debug log says of it: packets sent and their rate, and of the judged ones how many were answered, lost, and how much their delay grew (ms). */
  summary(): { packets: number; sentBps: number; judged: number; answered: number; lost: number; growthMs: number; queueMs: number } {
    const first = this.sent.get(this.order[0]!)?.at ?? 0;
    const last = this.sent.get(this.order.at(-1)!)?.at ?? 0;
    const sentBps = last > first ? ((this.order.length - 1) * this.packetBits * 1e6) / (last - first) : 0;
    const { judged, answered, received } = this.judged();
    return { packets: this.order.length, sentBps: Math.round(sentBps), judged: judged.length, answered: answered.length, lost: answered.length - received.length, growthMs: Math.round(delayGrowth(received) / 100) / 10, queueMs: Math.round(this.queueUs() / 100) / 10 };
  }

  /** A queue anywhere: the latest packets' delay above the cluster's lowest (the link's own); 0 before 6 arrived. */
  private queueUs(): number {
    const arrived = this.order.map((seq) => this.sent.get(seq)!).filter((s): s is Sent & { arrival: number } => typeof s.arrival === 'number');
    if (arrived.length < 6) return 0;
    const delays = arrived.map((s) => s.arrival - s.at);
    return median(delays.slice(-5)) - Math.min(...delays);
  }

  /** The packets judged (the share sent after `judgeAfter`), those the feedback covered, and those it says arrived. */
  private judged(): { judged: Sent[]; answered: Sent[]; received: (Sent & { arrival: number })[] } {
    const judged = this.order.slice(Math.floor(this.order.length * this.opts.judgeAfter)).map((seq) => this.sent.get(seq)!);
    const answered = judged.filter((s) => s.arrival !== undefined);
    const received = answered.filter((s): s is Sent & { arrival: number } => s.arrival !== null);
    return { judged, answered, received };
  }

  /** Packets sent so far. */
  get packets(): number {
    return this.order.length;
  }

  /** Whether any feedback covered a packet of this burst (a browser that answers). */
  get answered(): boolean {
    return this.heard;
  }
}

/** How much the one-way delay grew across these packets (in send order): last third against first third, medians. */
function delayGrowth(packets: readonly { at: number; arrival: number }[]): number {
  const third = Math.max(1, Math.floor(packets.length / 3));
  const delays = packets.map((p) => p.arrival - p.at);
  return median(delays.slice(-third)) - median(delays.slice(0, third));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
