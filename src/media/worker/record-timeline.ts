// One continuous RTP stream per recorded track. A publisher that comes back on a new peer sends
// from a new SSRC, with its own random timestamps and sequence numbers; werift's recorder times
// packets against the first sender report and read such a timestamp as a jump of hours (seen: one
// audio packet 4105 s after the rest, which made composing a 23 s recording take minutes). So the
// recorder sees one SSRC, renumbered the way a subscriber's m-line is (SeqTsRewriter): a new
// source goes on where the last one stopped, advanced by the time that passed between them.
import { RtpHeader, RtpPacket } from 'werift';
import { SeqTsRewriter } from './down-track.js';

export class RecordTimeline {
  private readonly rewriter: SeqTsRewriter;
  /** the SSRC the recorder sees: the first source's */
  private outSsrc: number | undefined;
  /** sources replaced by a later one: their late packets are dropped, not numbered again */
  private readonly retired = new Set<number>();
  private current: number | undefined;

  constructor(clockRate: number) {
    this.rewriter = new SeqTsRewriter(clockRate);
  }

  /** The packet as the recorder should see it, or undefined for a replaced source's straggler. */
  map(rtp: RtpPacket, now: number): RtpPacket | undefined {
    const h = rtp.header;
    if (this.retired.has(h.ssrc)) return undefined;
    if (this.rewriter.isNewSource(h.ssrc)) {
      if (this.current !== undefined) this.retired.add(this.current);
      this.current = h.ssrc;
      this.outSsrc ??= h.ssrc;
      this.rewriter.start(h.ssrc, h.sequenceNumber, h.timestamp, now);
    }
    const { seq, ts } = this.rewriter.map(h.sequenceNumber, h.timestamp, now);
    const header = new RtpHeader({
      marker: h.marker, payloadType: h.payloadType, sequenceNumber: seq, timestamp: ts, ssrc: this.outSsrc,
    });
    return new RtpPacket(header, rtp.payload);
  }
}
