// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01)
// from the SFU to a publishing browser, whose bandwidth estimate (and so its bitrate and simulcast
// layers) is built from it.
//
// werift 0.24.4 has a receiver for it, but it made Chrome's estimate collapse (MEDIA-NOTES):
// it keeps one feedback per m-line while the sequence numbers count every packet of the
// transport (so the audio's packets looked lost to the video's feedback and the reverse), it
// reports the packets missing from a feedback as received, its reference time is rounded down
// to 64 ms without moving the first delta (every feedback looked up to 64 ms early), and it does
// not handle the 16-bit wrap. This one keeps one feedback per transport.

/** Where feedback goes: werift's DTLS transport (`sendRtcp` serializes each packet). */
export interface RtcpSink {
  sendRtcp(packets: { serialize(): Buffer }[]): Promise<unknown>;
}

const STATUS_NOT_RECEIVED = 0;
const STATUS_SMALL_DELTA = 1;
const STATUS_LARGE_DELTA = 2;
/** Receive deltas are in multiples of 250 µs; the reference time in multiples of 64 ms. */
const DELTA_UNIT_US = 250;
const REFERENCE_UNIT_US = 64_000;
/** One feedback covers at most this many sequence numbers (a longer gap starts afresh). */
const MAX_STATUSES = 0x1fff;
const RUN_LENGTH_MAX = 0x1fff;
const VECTOR_SYMBOLS = 7;

/** Unwraps 16-bit sequence numbers into a growing count (packets may arrive out of order). */
export class SequenceUnwrapper {
  private last: number | undefined;

  unwrap(seq: number): number {
    if (this.last === undefined) {
      this.last = seq;
      return seq;
    }
    const delta = ((seq - (this.last & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const value = this.last + delta;
    if (delta > 0) this.last = value;
    return value;
  }
}

/**
 * One feedback packet: the statuses of `count` sequence numbers from `base` on, arrival times in
 * µs (undefined: not received) relative to any fixed origin.
 */
export function buildFeedback(opts: {
  senderSsrc: number;
  mediaSsrc: number;
  base: number;
  arrivals: (number | undefined)[];
  feedbackCount: number;
}): Buffer {
  const { arrivals } = opts;
  const first = arrivals.find((a) => a !== undefined);
  if (first === undefined) throw new Error('a feedback needs at least one received packet');
  const reference = Math.floor(first / REFERENCE_UNIT_US);
  // Deltas are quantized against the times already reported, so rounding never accumulates.
  let reported = reference * REFERENCE_UNIT_US;
  const statuses: number[] = [];
  const deltas: Buffer[] = [];
  for (const arrival of arrivals) {
    if (arrival === undefined) {
      statuses.push(STATUS_NOT_RECEIVED);
      continue;
    }
    const units = Math.round((arrival - reported) / DELTA_UNIT_US);
    if (units >= 0 && units <= 0xff) {
      statuses.push(STATUS_SMALL_DELTA);
      deltas.push(Buffer.from([units]));
    } else {
      const clamped = Math.max(-0x8000, Math.min(0x7fff, units));
      const b = Buffer.alloc(2);
      b.writeInt16BE(clamped);
      statuses.push(STATUS_LARGE_DELTA);
      deltas.push(b);
    }
    reported += Math.max(-0x8000, Math.min(0x7fff, units)) * DELTA_UNIT_US;
  }
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32BE(opts.senderSsrc >>> 0, 0);
  fixed.writeUInt32BE(opts.mediaSsrc >>> 0, 4);
  fixed.writeUInt16BE(opts.base & 0xffff, 8);
  fixed.writeUInt16BE(statuses.length, 10);
  fixed.writeUIntBE(reference & 0xffffff, 12, 3);
  fixed.writeUInt8(opts.feedbackCount & 0xff, 15);
  const body = Buffer.concat([fixed, encodeChunks(statuses), ...deltas]);
  const padding = (4 - (body.length % 4)) % 4;
  const packet = Buffer.alloc(4 + body.length + padding);
  // V=2, P when padded, FMT=15; PT=205 (transport layer feedback); length in words minus one.
  packet.writeUInt8(0x80 | (padding > 0 ? 0x20 : 0) | 15, 0);
  packet.writeUInt8(205, 1);
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  body.copy(packet, 4);
  if (padding > 0) packet.writeUInt8(padding, packet.length - 1);
  return packet;
}

/** Run-length chunks for runs of 7 or more, two-bit status vectors (7 statuses) otherwise. */
export function encodeChunks(statuses: number[]): Buffer {
  const chunks: number[] = [];
  let i = 0;
  while (i < statuses.length) {
    let run = 1;
    while (i + run < statuses.length && statuses[i + run] === statuses[i] && run < RUN_LENGTH_MAX) run++;
    if (run >= VECTOR_SYMBOLS) {
      chunks.push((statuses[i]! << 13) | run);
      i += run;
      continue;
    }
    let chunk = 0xc000; // status vector, two-bit symbols
    for (let k = 0; k < VECTOR_SYMBOLS; k++) chunk |= (statuses[i + k] ?? STATUS_NOT_RECEIVED) << (12 - 2 * k);
    chunks.push(chunk);
    i += VECTOR_SYMBOLS;
  }
  const out = Buffer.alloc(chunks.length * 2);
  chunks.forEach((c, k) => out.writeUInt16BE(c, k * 2));
  return out;
}

/**
 * The feedback of one transport: every packet's transport-wide sequence number and arrival time,
 * reported every `intervalMs` (and sooner when many are waiting).
 */
export class TransportFeedback {
  private readonly unwrapper = new SequenceUnwrapper();
  private readonly arrivals = new Map<number, number>();
  /** The first sequence number the next feedback reports. */
  private next: number | undefined;
  private feedbackCount = 0;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly sink: RtcpSink & { readonly state?: string },
    private readonly senderSsrc: number,
    private readonly mediaSsrc: number,
    private readonly nowUs: () => number = () => performance.now() * 1000,
    intervalMs = 50,
  ) {
    this.timer = setInterval(() => {
      if (sink.state === 'closed') this.stop();
      else this.flush();
    }, intervalMs);
    this.timer.unref();
  }

  /** A packet arrived carrying this transport-wide sequence number. */
  received(seq: number): void {
    if (this.stopped) return;
    const n = this.unwrapper.unwrap(seq);
    if (this.next !== undefined && n < this.next) return; // reported as lost already
    this.arrivals.set(n, this.nowUs());
    this.next ??= n;
    if (this.arrivals.size >= 100) this.flush();
  }

  flush(): void {
    if (this.stopped || this.arrivals.size === 0 || this.next === undefined) return;
    let last = this.next;
    for (const n of this.arrivals.keys()) if (n > last) last = n;
    // After a long gap (an outage) the feedback starts at the first packet that arrived.
    if (last - this.next + 1 > MAX_STATUSES) this.next = Math.min(...this.arrivals.keys());
    const base = this.next;
    const count = Math.min(last - base + 1, MAX_STATUSES);
    const arrivals: (number | undefined)[] = [];
    for (let n = base; n < base + count; n++) arrivals.push(this.arrivals.get(n));
    for (const n of [...this.arrivals.keys()]) if (n < base + count) this.arrivals.delete(n);
    this.next = base + count;
    const packet = buildFeedback({ senderSsrc: this.senderSsrc, mediaSsrc: this.mediaSsrc, base, arrivals, feedbackCount: this.feedbackCount++ });
    this.sink.sendRtcp([{ serialize: () => packet }]).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
