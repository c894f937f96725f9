// The RTCCertificate.getFingerprints patch against werift's unpatched CommonJS copy (see
// werift-srtp.test.ts for why `require('werift')` is the reference).
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { expect, it } from 'vitest';
import { patchWeriftCertificate } from '../../src/media/worker/werift-certificate.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;

it('gives the same fingerprints as werift, parsing the certificate once, each call its own copies', async () => {
  patchWeriftCertificate();
  const theirs = await original.RTCDtlsTransport.SetupCertificate();
  // The same key and certificate in the patched class.
  const cert = theirs as unknown as { certPem: string; privateKey: string; signatureHash: unknown };
  const ours = new patched.RTCCertificate(cert.privateKey, cert.certPem, cert.signatureHash as never);
  const expected = theirs.getFingerprints().map((f) => ({ ...f }));
  expect(expected).toHaveLength(1);
  expect(expected[0]!.value).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

  const first = ours.getFingerprints();
  expect(first.map((f) => ({ ...f }))).toEqual(expected);
  expect(first[0]).toBeInstanceOf(patched.RTCDtlsFingerprint);
  first[0]!.value = 'changed by a caller';
  expect(ours.getFingerprints().map((f) => ({ ...f }))).toEqual(expected);

  // Parsed once: werift's getFingerprints reads `certPem` to parse it, each time it runs.
  let reads = 0;
  const pem = cert.certPem;
  Object.defineProperty(ours, 'certPem', { get: () => (reads++, pem) });
  const fresh = new patched.RTCCertificate(cert.privateKey, cert.certPem, cert.signatureHash as never);
  Object.defineProperty(fresh, 'certPem', { get: () => (reads++, pem) });
  for (let i = 0; i < 100; i++) [...ours.getFingerprints(), ...fresh.getFingerprints()];
  expect(reads).toBe(1); // `fresh` once; `ours` had its fingerprints already
});
