// Publishers get transport-wide congestion control feedback from twcc-feedback.ts instead of
// werift 0.24.4's own (see there why): werift's RTCRtpReceiver starts its feedback in
// `setupTWCC` on the first packet of an m-line that negotiated transport-cc, then hands every
// packet's sequence number to it. Here every receiver of a transport shares one feedback.
import { RTCRtpReceiver } from 'werift';
import { TransportFeedback, type RtcpSink } from './twcc-feedback.js';

const PATCHED = Symbol.for('parley.werift-twcc-patched');
const FEEDBACK = Symbol('parley.transport-feedback');

/** The parts of werift's RTCRtpReceiver that `setupTWCC` uses. */
interface ReceiverInternals {
  readonly twccEnabled: unknown;
  readonly rtcpSsrc: number;
  readonly dtlsTransport: RtcpSink & { readonly state: string; [FEEDBACK]?: TransportFeedback };
  receiverTWCC: { handleTWCC(seq: unknown): void; twccRunning: boolean } | undefined;
}

export function patchWeriftTwcc(): void {
  const proto = RTCRtpReceiver.prototype as unknown as { setupTWCC?: (ssrc: number) => void; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  if (typeof proto.setupTWCC !== 'function') throw new Error('werift changed: RTCRtpReceiver.setupTWCC is gone (see werift-twcc.ts)');
  proto.setupTWCC = function (this: ReceiverInternals, mediaSourceSsrc: number) {
    if (!this.twccEnabled || this.receiverTWCC) return;
    const dtls = this.dtlsTransport;
    const feedback = (dtls[FEEDBACK] ??= new TransportFeedback(dtls, this.rtcpSsrc, mediaSourceSsrc));
    this.receiverTWCC = {
      handleTWCC: (seq) => {
        if (typeof seq === 'number') feedback.received(seq);
      },
      // werift clears this when one receiver stops; the transport's feedback ends with the transport.
      twccRunning: true,
    };
  };
  proto[PATCHED] = true;
}
