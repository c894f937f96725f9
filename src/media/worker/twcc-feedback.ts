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

import { sharedInterval, type Ticks } from './shared-interval.js';

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
/** Arrivals kept between feedbacks: a power of two above MAX_STATUSES. */
const RING = 0x2000;
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
  arrivals: ArrayLike<number | undefined>;
  feedbackCount: number;
}): Buffer {
  const { arrivals } = opts;
  const count = arrivals.length;
  let first: number | undefined;
  for (let i = 0; i < count && first === undefined; i++) first = arrivals[i];
  if (first === undefined) throw new Error('a feedback needs at least one received packet');
  const reference = Math.floor(first / REFERENCE_UNIT_US);
  // Deltas are quantized against the times already reported, so rounding never accumulates.
  let reported = reference * REFERENCE_UNIT_US;
  const statuses = new Uint8Array(count);
  const deltas = Buffer.allocUnsafe(count * 2);
  let deltaBytes = 0;
  for (let i = 0; i < count; i++) {
    const arrival = arrivals[i];
    if (arrival === undefined) continue; // STATUS_NOT_RECEIVED
    const units = Math.round((arrival - reported) / DELTA_UNIT_US);
    if (units >= 0 && units <= 0xff) {
      statuses[i] = STATUS_SMALL_DELTA;
      deltas[deltaBytes++] = units;
    } else {
      const clamped = Math.max(-0x8000, Math.min(0x7fff, units));
      statuses[i] = STATUS_LARGE_DELTA;
      deltas.writeInt16BE(clamped, deltaBytes);
      deltaBytes += 2;
    }
    reported += Math.max(-0x8000, Math.min(0x7fff, units)) * DELTA_UNIT_US;
  }
  const chunks = encodeChunks(statuses);
  const body = 16 + chunks.length + deltaBytes;
  const padding = (4 - (body % 4)) % 4;
  const packet = Buffer.alloc(4 + body + padding);
  // V=2, P when padded, FMT=15; PT=205 (transport layer feedback); length in words minus one.
  packet.writeUInt8(0x80 | (padding > 0 ? 0x20 : 0) | 15, 0);
  packet.writeUInt8(205, 1);
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(opts.senderSsrc >>> 0, 4);
  packet.writeUInt32BE(opts.mediaSsrc >>> 0, 8);
  packet.writeUInt16BE(opts.base & 0xffff, 12);
  packet.writeUInt16BE(count, 14);
  packet.writeUIntBE(reference & 0xffffff, 16, 3);
  packet.writeUInt8(opts.feedbackCount & 0xff, 19);
  chunks.copy(packet, 20);
  deltas.copy(packet, 20 + chunks.length, 0, deltaBytes);
  if (padding > 0) packet.writeUInt8(padding, packet.length - 1);
  return packet;
}

/** Run-length chunks for runs of 7 or more, two-bit status vectors (7 statuses) otherwise. */
export function encodeChunks(statuses: ArrayLike<number>): Buffer {
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

/** A 100 ms interval slowed Chrome's ramp-up on a free uplink (src/media/README.md, "Beside Janus"). */
export const FEEDBACK_INTERVAL_MS = 50;

/**
 * The feedback of one transport: every packet's transport-wide sequence number and arrival time,
 * reported on every tick of `clock` (and sooner when many are waiting).
 */
export class TransportFeedback {
  private readonly unwrapper = new SequenceUnwrapper();
  /** Arrival times (µs) by sequence number modulo RING; NaN: not (yet) received. */
  private readonly ring = new Float64Array(RING).fill(NaN);
  private waiting = 0;
  /** The first sequence number the next feedback reports, and the highest one received. */
  private next: number | undefined;
  private last = 0;
  private feedbackCount = 0;
  private readonly leaveClock: () => void;
  private stopped = false;

  constructor(
    private readonly sink: RtcpSink & { readonly state?: string },
    private readonly senderSsrc: number,
    private readonly mediaSsrc: number,
    private readonly nowUs: () => number = () => performance.now() * 1000,
    clock: Ticks = sharedInterval(FEEDBACK_INTERVAL_MS),
  ) {
    this.leaveClock = clock.add(() => {
      if (sink.state === 'closed') this.stop();
      else this.flush();
    });
  }

  /** A packet arrived carrying this transport-wide sequence number. */
  received(seq: number): void {
    if (this.stopped) return;
    const n = this.unwrapper.unwrap(seq);
    if (this.next === undefined) this.next = this.last = n;
    if (n < this.next) return; // reported as lost already
    // After a long gap (an outage) the next feedback starts at the first packet after it.
    if (n - this.next >= MAX_STATUSES) {
      this.flush();
      this.next = this.last = n;
    }
    const slot = n % RING;
    if (Number.isNaN(this.ring[slot]!)) this.waiting++;
    this.ring[slot] = this.nowUs();
    if (n > this.last) this.last = n;
    if (this.waiting >= 100) this.flush();
  }

  flush(): void {
    if (this.stopped || this.waiting === 0 || this.next === undefined) return;
    const base = this.next;
    const count = this.last - base + 1;
    const arrivals = new Array<number | undefined>(count);
    for (let i = 0; i < count; i++) {
      const slot = (base + i) % RING;
      const at = this.ring[slot]!;
      arrivals[i] = Number.isNaN(at) ? undefined : at;
      this.ring[slot] = NaN;
    }
    this.waiting = 0;
    this.next = this.last + 1;
    const packet = buildFeedback({ senderSsrc: this.senderSsrc, mediaSsrc: this.mediaSsrc, base, arrivals, feedbackCount: this.feedbackCount++ });
    this.sink.sendRtcp([{ serialize: () => packet }]).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.leaveClock();
  }
}
