// The SenderBandwidthEstimator patch against werift's unpatched CommonJS copy (see
// werift-srtp.test.ts for why `require('werift')` is the reference).
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { expect, it } from 'vitest';
import { patchWeriftSenderBwe } from '../../src/media/worker/werift-sender-bwe.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;

interface Estimator {
  sentInfos: Record<number, unknown>;
  rtpPacketSent(info: { wideSeq: number; size: number; sendingAtMs: number; sentAtMs: number }): void;
}

const estimator = (w: typeof patched) => (new w.RTCRtpSender('video') as unknown as { senderBWE: Estimator }).senderBWE;

it('records sent packets as werift does, across the 16-bit wrap and with repeated sequence numbers', () => {
  patchWeriftSenderBwe();
  const [p, o] = [estimator(patched), estimator(original)];
  expect(Object.getPrototypeOf(p).rtpPacketSent).not.toBe(Object.getPrototypeOf(o).rtpPacketSent);
  let wideSeq = 65500;
  for (let i = 0; i < 400; i++) {
    // A sender without transport-cc sends every packet under the same number.
    if (i % 5 !== 0) wideSeq = (wideSeq + 1) & 0xffff;
    const info = { wideSeq, size: 100 + (i % 1200), sendingAtMs: 1000 + i, sentAtMs: 1000 + i };
    p.rtpPacketSent({ ...info });
    o.rtpPacketSent({ ...info });
  }
  expect(Object.keys(p.sentInfos).length).toBeGreaterThan(300);
  expect(p.sentInfos).toEqual(o.sentInfos);
});
