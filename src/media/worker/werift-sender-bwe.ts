// werift 0.24.4's RTCRtpSender hands every packet it sends to its SenderBandwidthEstimator's
// `rtpPacketSent`, which first lists, maps, sorts and filters the keys of the packet's own info
// object (meaning the table of sent packets, it seems) to delete older entries: those keys are
// never numbers, so it never deletes anything, and costs four arrays per packet (1.3% of the
// media worker's busy time in a profile). Same effect without the arrays: the info is stored
// under its transport-wide sequence number (a uint16, so at most 65536 entries per sender).
import { RTCRtpSender } from 'werift';

const PATCHED = Symbol.for('parley.werift-sender-bwe-patched');

interface SentInfo {
  readonly wideSeq: number;
}

interface Estimator {
  sentInfos: Record<number, SentInfo>;
}

interface EstimatorMethods {
  rtpPacketSent(this: Estimator, sentInfo: SentInfo): void;
  [PATCHED]?: true;
}

export function patchWeriftSenderBwe(): void {
  // SenderBandwidthEstimator is not exported: reach its prototype through a sender's.
  const sender = new RTCRtpSender('audio') as unknown as { senderBWE?: object };
  const proto = (sender.senderBWE && Object.getPrototypeOf(sender.senderBWE)) as Partial<EstimatorMethods> | undefined;
  if (!proto || typeof proto.rtpPacketSent !== 'function') {
    throw new Error('werift changed: SenderBandwidthEstimator.rtpPacketSent is gone (see werift-sender-bwe.ts)');
  }
  if (proto[PATCHED]) return;
  proto.rtpPacketSent = function (this: Estimator, sentInfo: SentInfo) {
    this.sentInfos[sentInfo.wideSeq] = sentInfo;
  };
  proto[PATCHED] = true;
}
