// werift 0.24.4's RTCRtpSender resends a packet from its history for every NACK that names it.
// Chrome names a missing packet again every ~100 ms (its RTT guess) up to 10 times while the
// retransmission is on its way: on a slow link whose queue holds 200 ms, every loss became up to
// ten retransmissions, and the link filled with them (seen: 25–35 NACKs a second per 8-packet/s
// video, three quarters of its frames never shown). Here a packet is resent at most once per
// round trip and at most MAX_RESENDS times (asked for again after that, it is lost for good: see
// onLostForGood).
// The resends are all made here, from the sender's history (RTP_HISTORY_SIZE, larger than the
// 128 packets werift's own lookup knows): media in RTX when negotiated, as werift does; padding as
// it was sent (media SSRC, P bit), because werift's RTX wrapper would drop its P bit and hand the
// browser 255 bytes of zeros as video. (Left unanswered, Chrome asks for a lost padding packet up
// to ten times.)
import { GenericNack, RTCRtpSender, RtcpTransportLayerFeedback, wrapRtx, type RtcpPacket, type RtpPacket } from 'werift';
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

/** The fields of werift's RTCRtpSender that its NACK handling uses. */
interface Sender {
  /** seconds, from receiver reports (werift) */
  rtt?: number;
  /** the send history (werift-sender.ts), by sequence number modulo RTP_HISTORY_SIZE */
  rtpCache?: (RtpPacket | undefined)[];
  dtlsTransport?: { sendRtp(payload: Buffer, header: RtpPacket['header']): Promise<unknown> };
  rtxPayloadType?: number;
  rtxSsrc?: number;
  rtxSequenceNumber?: number;
  retransmittedPacketsSent?: number;
  retransmittedBytesSent?: number;
  headerBytesSent?: number;
  nackCount?: number;
  onGenericNack?: { execute(nack: GenericNack): void };
  [RESENT]?: (Resend | undefined)[];
  [LOST_FOR_GOOD]?: () => void;
}

/** This thread's resends so far, for the worker's counters (one thread, one module instance). */
export const resendCounts = {
  /** media and padding packets sent again for a NACK */
  resent: 0,
  /** NACKed packets chosen for a resend but no longer in the history */
  missing: 0,
};

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

/** Sends `packet` again: media in RTX when the subscriber negotiated it (as werift does), padding as it was. */
function resend(sender: Sender, packet: RtpPacket): void {
  let out = packet;
  if (!packet.header.padding && sender.rtxPayloadType !== undefined && sender.rtxSsrc !== undefined) {
    const rtxSeq = sender.rtxSequenceNumber ?? 0;
    out = wrapRtx(packet, sender.rtxPayloadType, rtxSeq, sender.rtxSsrc);
    sender.rtxSequenceNumber = (rtxSeq + 1) & 0xffff;
  }
  sender.retransmittedPacketsSent = (sender.retransmittedPacketsSent ?? 0) + 1;
  sender.retransmittedBytesSent = (sender.retransmittedBytesSent ?? 0) + out.payload.length;
  sender.headerBytesSent = (sender.headerBytesSent ?? 0) + out.header.serializeSize;
  resendCounts.resent++;
  sender.dtlsTransport?.sendRtp(out.payload, out.header).catch(() => undefined);
}

export function patchWeriftNackLimit(): void {
  const proto = RTCRtpSender.prototype as unknown as { handleRtcpPacket: (this: Sender, packet: RtcpPacket) => unknown; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.handleRtcpPacket;
  if (typeof original !== 'function') throw new Error('werift changed: RTCRtpSender.handleRtcpPacket is gone (see werift-nack-limit.ts)');
  proto.handleRtcpPacket = function (this: Sender, packet: RtcpPacket) {
    if (!(packet instanceof RtcpTransportLayerFeedback && packet.feedback instanceof GenericNack)) return original.call(this, packet);
    const feedback = packet.feedback;
    const { resend: chosen, lostForGood } = nackedToResend(this, feedback.lost, performance.now());
    const sent = (seq: number) => {
      const cached = this.rtpCache?.[seq % RTP_HISTORY_SIZE];
      return cached?.header.sequenceNumber === seq ? cached : undefined;
    };
    const media: number[] = [];
    for (const seq of chosen) {
      const cached = sent(seq);
      if (!cached) resendCounts.missing++;
      else resend(this, cached);
      if (!cached?.header.padding) media.push(seq);
    }
    // (Padding lost for good leaves no picture behind.)
    if (lostForGood.some((seq) => !sent(seq)?.header.padding)) this[LOST_FOR_GOOD]?.();
    // What werift's own handling did besides resending: count, and tell who listens.
    this.nackCount = (this.nackCount ?? 0) + 1;
    feedback.lost = media;
    this.onGenericNack?.execute(feedback);
  };
  proto[PATCHED] = true;
}
