// werift 0.24.4's RTCRtpSender resends a packet from its history for every NACK that names it.
// Chrome names a missing packet again every ~100 ms (its RTT guess) up to 10 times while the
// retransmission is on its way: on a slow link whose queue holds 200 ms, every loss became up to
// ten retransmissions, and the link filled with them (seen: 25–35 NACKs a second per 8-packet/s
// video, three quarters of its frames never shown). Here a packet is resent at most once per
// round trip and at most MAX_RESENDS times (asked for again after that, it is lost for good: see
// onLostForGood); the rest of werift's NACK handling stays.
// Padding is resent here as it was sent (media SSRC, P bit): werift's RTX wrapper would drop its
// P bit and hand the browser 255 bytes of zeros as video. (Left unanswered, Chrome asks for a lost
// padding packet up to ten times.)
import { GenericNack, RTCRtpSender, RtcpTransportLayerFeedback, type RtcpPacket } from 'werift';
import { RTP_HISTORY_SIZE } from './werift-sender.js';

const PATCHED = Symbol.for('parley.werift-nack-limit-patched');
const RESENT = Symbol('parley.resent');
const MAX_RESENDS = 3;
/** Without a measured round trip (before the first receiver report with DLSR). */
const DEFAULT_RTT_MS = 100;
const MIN_GAP_MS = 30;
const MAX_GAP_MS = 500;

interface Resend {
  seq: number;
  at: number;
  count: number;
  /** asked for again after the last resend could have arrived: reported lost for good once */
  givenUp?: true;
}

interface CachedPacket {
  header: { sequenceNumber: number; padding: boolean };
  payload: Buffer;
}

interface Sender {
  /** seconds, from receiver reports (werift) */
  rtt?: number;
  /** werift's send history, by sequence number modulo RTP_HISTORY_SIZE */
  rtpCache?: (CachedPacket | undefined)[];
  dtlsTransport?: { sendRtp(payload: Buffer, header: CachedPacket['header']): Promise<unknown> };
  [RESENT]?: (Resend | undefined)[];
  [LOST_FOR_GOOD]?: () => void;
}

const LOST_FOR_GOOD = Symbol('parley.lost-for-good');

/**
 * `listener` hears when the subscriber asks again for a media packet this sender resent
 * MAX_RESENDS times, a round trip after the last one: that frame, and every later one that
 * refers to it, cannot be decoded before a keyframe (the browser asks for one only after ~3 s
 * without a picture: traced on the 500 kbit/s link of downlink.test.ts).
 */
export function onLostForGood(sender: object, listener: () => void): void {
  (sender as Sender)[LOST_FOR_GOOD] = listener;
}

/**
 * Which of the sequence numbers a NACK names to resend now (`now`: ms, monotonic), remembering
 * them: not one resent within the last round trip, nor one resent MAX_RESENDS times already
 * (`lostForGood`: those asked again a round trip after their last resend, each once).
 */
export function nackedToResend(sender: Sender, lost: readonly number[], now: number): { resend: number[]; lostForGood: number[] } {
  const resent = (sender[RESENT] ??= new Array<Resend | undefined>(RTP_HISTORY_SIZE));
  const rttMs = sender.rtt !== undefined && sender.rtt > 0 ? sender.rtt * 1000 : DEFAULT_RTT_MS;
  const gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, rttMs));
  const out: number[] = [];
  const lostForGood: number[] = [];
  for (const seq of lost) {
    const slot = seq % RTP_HISTORY_SIZE;
    let entry = resent[slot];
    // Another packet in that slot, or one so old that it is another one by now: start over.
    if (!entry || entry.seq !== seq || now - entry.at > MAX_GAP_MS * MAX_RESENDS * 2) {
      entry = { seq, at: -Infinity, count: 0 };
      resent[slot] = entry;
    }
    if (now - entry.at < gap) continue;
    if (entry.count >= MAX_RESENDS) {
      if (!entry.givenUp) lostForGood.push(seq);
      entry.givenUp = true;
      continue;
    }
    entry.at = now;
    entry.count++;
    out.push(seq);
  }
  return { resend: out, lostForGood };
}

export function patchWeriftNackLimit(): void {
  const proto = RTCRtpSender.prototype as unknown as { handleRtcpPacket: (this: Sender, packet: RtcpPacket) => unknown; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.handleRtcpPacket;
  if (typeof original !== 'function') throw new Error('werift changed: RTCRtpSender.handleRtcpPacket is gone (see werift-nack-limit.ts)');
  proto.handleRtcpPacket = function (this: Sender, packet: RtcpPacket) {
    if (packet instanceof RtcpTransportLayerFeedback && packet.feedback instanceof GenericNack) {
      const media: number[] = [];
      const { resend, lostForGood } = nackedToResend(this, packet.feedback.lost, performance.now());
      const padding = (seq: number) => {
        const cached = this.rtpCache?.[seq % RTP_HISTORY_SIZE];
        return cached?.header.sequenceNumber === seq && cached.header.padding ? cached : undefined;
      };
      for (const seq of resend) {
        const cached = padding(seq);
        if (cached) this.dtlsTransport?.sendRtp(cached.payload, cached.header).catch(() => undefined);
        else media.push(seq);
      }
      // (Padding lost for good leaves no picture behind.)
      if (lostForGood.some((seq) => !padding(seq))) this[LOST_FOR_GOOD]?.();
      packet.feedback.lost = media;
    }
    return original.call(this, packet);
  };
  proto[PATCHED] = true;
}
