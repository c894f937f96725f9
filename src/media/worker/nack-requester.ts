// The NACKs a publisher's transport sends for video packets that did not arrive: one list per SSRC,
// the first NACK as soon as a gap shows, then each missing packet asked again every NACK_RETRY_MS,
// NACK_MAX_TRIES times (~1 s). libwebrtc's NackRequester asks again every round trip; the receive
// side has no round trip of its own here, and the browser resends a packet at most once per its
// own round trip whatever we ask, so asking on each tick costs a small RTCP packet and repairs a
// lost retransmission on a short path within the recorder's 200 ms jitter buffer.
// It replaces werift 0.24.4's NackHandler, which kept one sequence number per m-line, so that a
// simulcast publisher's three layers (three sequence spaces) read as gaps into each other and the
// lower layers' losses were never asked for; which lost its place for 65536 packets when the
// packet numbered 65535 was lost; and which asked ten times in 50 ms from a 5 ms timer per
// receiver, then gave up before a retransmission could arrive on a 100 ms path.
import type { Ticks } from './shared-interval.js';

export const NACK_RETRY_MS = 50;
export const NACK_MAX_TRIES = 20;
/** Per stream. A larger gap (an outage, a restarted encoder) is not asked for: it needs a keyframe. */
export const NACK_MAX_MISSING = 150;
/** The retries' timer (the TWCC feedback's period: the thread wakes for both at once). */
export const NACK_TICK_MS = 50;

interface Missing {
  askedAt: number;
  tries: number;
}

interface Stream {
  highest: number;
  /** by sequence number, oldest first (Map keeps insertion order) */
  missing: Map<number, Missing>;
}

export interface NackRequesterOptions {
  /** Sends one NACK naming `lost` (sequence numbers of `ssrc`). */
  send(ssrc: number, lost: number[]): void;
  /** ms, monotonic */
  now(): number;
  ticks: Ticks;
}

export class NackRequester {
  private readonly streams = new Map<number, Stream>();
  private stopTicks: (() => void) | undefined;

  constructor(private readonly opts: NackRequesterOptions) {}

  /** A packet of `ssrc` arrived: a new one, a reordered one or a retransmission (unwrapped from RTX). */
  received(ssrc: number, sequenceNumber: number): void {
    const seq = sequenceNumber & 0xffff;
    const stream = this.streams.get(ssrc);
    if (!stream) {
      this.streams.set(ssrc, { highest: seq, missing: new Map() });
      return;
    }
    const ahead = (seq - stream.highest) & 0xffff;
    if (ahead === 0) return;
    if (ahead >= 0x8000) {
      stream.missing.delete(seq); // older than the highest: it was missing, or it is a duplicate
      return;
    }
    stream.highest = seq;
    if (ahead === 1) return;
    if (ahead - 1 > NACK_MAX_MISSING) {
      stream.missing.clear();
      return;
    }
    const now = this.opts.now();
    const lost: number[] = [];
    for (let q = (seq - ahead + 1) & 0xffff; q !== seq; q = (q + 1) & 0xffff) {
      stream.missing.delete(q); // re-inserted last: the order stays oldest first
      stream.missing.set(q, { askedAt: now, tries: 1 });
      lost.push(q);
    }
    for (const q of stream.missing.keys()) {
      if (stream.missing.size <= NACK_MAX_MISSING) break;
      stream.missing.delete(q);
    }
    this.opts.send(ssrc, lost);
    this.stopTicks ??= this.opts.ticks.add(() => this.retry());
  }

  /** Sequence numbers of `ssrc` still asked for (for tests and stats). */
  missing(ssrc: number): number[] {
    return [...(this.streams.get(ssrc)?.missing.keys() ?? [])];
  }

  close(): void {
    this.stopRetries();
    this.streams.clear();
  }

  private stopRetries(): void {
    this.stopTicks?.();
    this.stopTicks = undefined;
  }

  private retry(): void {
    const now = this.opts.now();
    let waiting = 0;
    for (const [ssrc, stream] of this.streams) {
      const lost: number[] = [];
      for (const [seq, m] of stream.missing) {
        if (now - m.askedAt < NACK_RETRY_MS) continue;
        if (m.tries >= NACK_MAX_TRIES) {
          stream.missing.delete(seq); // asked for ~1 s: lost for good
          continue;
        }
        m.tries++;
        m.askedAt = now;
        lost.push(seq);
      }
      if (lost.length > 0) this.opts.send(ssrc, lost);
      waiting += stream.missing.size;
    }
    if (waiting === 0) this.stopRetries();
  }
}
