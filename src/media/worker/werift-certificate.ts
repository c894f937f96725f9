// werift 0.24.4's RTCCertificate.getFingerprints parses its own certificate again (PEM → DER →
// @peculiar/x509's JavaScript ASN.1) and hashes it on every call, and every offer and answer calls
// it once per m-line (addTransportDescription, through RTCDtlsTransport.localParameters). A
// subscriber's offer is rebuilt on every join and every track change of its meeting: in a
// profile of the media worker while four Chromium people joined, that parsing was ~190 ms of the
// thread's time, 80% of all offer building. The certificate never changes: its fingerprints are
// computed once per certificate here, and each call gets its own copies.
import { RTCCertificate, RTCDtlsFingerprint } from 'werift';

const PATCHED = Symbol.for('parley.werift-certificate-patched');
const FINGERPRINTS = Symbol('parley.fingerprints');

interface CertificateMethods {
  getFingerprints(this: Certificate): RTCDtlsFingerprint[];
  [PATCHED]?: true;
}

interface Certificate {
  [FINGERPRINTS]?: readonly { algorithm: string; value: string }[];
}

export function patchWeriftCertificate(): void {
  const proto = RTCCertificate.prototype as unknown as CertificateMethods;
  if (proto[PATCHED]) return;
  const original = proto.getFingerprints;
  if (typeof original !== 'function') throw new Error('werift changed: RTCCertificate.getFingerprints is gone (see werift-certificate.ts)');
  proto.getFingerprints = function (this: Certificate) {
    // (werift sets `certPem` once, in the constructor.)
    const known = (this[FINGERPRINTS] ??= original.call(this).map((f) => ({ algorithm: f.algorithm, value: f.value })));
    return known.map((f) => new RTCDtlsFingerprint(f.algorithm, f.value));
  };
  proto[PATCHED] = true;
}
