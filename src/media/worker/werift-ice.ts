// Four corrections to werift's ICE agent (`Connection`, shared by every RTCPeerConnection of the
// ESM bundle we import) and to how its RTCPeerConnection starts it, applied once per thread when
// webrtc.ts is loaded. Checked against
// werift 0.24.4 (lib/index.mjs, "../ice/src/ice.ts"); see src/media/README.md.
import { isIP } from 'node:net';
import { Connection, RTCPeerConnection, StunProtocol } from 'werift';

/**
 * 1. No STUN server unless the operator configured one. werift's constructor does
 *    `this.stunServer = validateAddress(stunServer) ?? ["stun.l.google.com", 19302]`, so even
 *    with `iceServers: []` every gathering looks the name up (DNS) and sends a binding request
 *    to Google from every IPv4 socket, waiting up to 5 s for the answer. The constructor calls
 *    `restart()` right after that assignment (and ICE restarts call it again), so clearing the
 *    field there takes effect before any gathering; a configured `stun:` URL is left alone.
 * 2. Remote candidates that are not IP literals are dropped. werift resolves `*.local` names with
 *    its own mDNS client (multicast queries on the LAN) and would hand other host names to
 *    dgram (a DNS lookup). peer.ts and sdp.ts already filter them out of SDPs and trickled
 *    candidates; this makes sure no other path reaches werift's resolver.
 * 3. Consent checks wait for their answer as long as browsers do. werift (RFC 7675) checks the
 *    selected pair every 4–6 s with one request, no retransmission, and a response timeout of
 *    max(500 ms, 2·RTT + 200 ms), RTT being the last measured one; an answer arriving later is
 *    dropped, and 30 s without an accepted answer declares the transport `failed`. Behind a
 *    congested queue (a tbf or a busy uplink adding a second of delay to a link whose RTT was
 *    measured at 1 ms) every answer is "late", and a working transport dies after 30 s.
 *    libwebrtc accepts an answer to any outstanding check and calls a pair unwritable only after
 *    5 unanswered checks and 5 s. Here a consent request (the only one werift sends with
 *    `retransmissions: 0`) waits CONSENT_PATIENCE_MS, still less than the next check's interval.
 * 4. An ICE restart actually runs ICE. After the new credentials are applied (answer set),
 *    werift's RTCPeerConnection `connect()` skips `iceTransport.start()` when the DTLS transport
 *    is still connected — always the case for a restart on the same transport. So the agent
 *    never runs its check list: no checks of its own, no nomination as the controlling agent
 *    (our subscriber offers), checks that arrived before the browser's candidates stay queued
 *    in `earlyChecks` forever, consent checks are not restarted. Chromium's controlled agent
 *    selects a writable pair without a nomination and got away with it; Firefox waits for
 *    USE-CANDIDATE, so its subscriber transport never recovered (media to Firefox stopped until
 *    the page rebuilt everything). Here such a transport (DTLS `connected`, remote credentials
 *    known, no nominated pair, no checks running for its current generation) is started, next to
 *    werift's own connect. Its ICE state says nothing then: `completed` after gathering (werift's
 *    word for it), or a stale `connected` from the generation before.
 */
export const CONSENT_PATIENCE_MS = 3_000;
export const WERIFT_ICE_PATCHED = Symbol.for('parley.werift-ice-patched');

type PatchedPrototype = Connection & { [WERIFT_ICE_PATCHED]?: true };
/** The private parts of werift 0.24.4's RTCPeerConnection that correction 4 uses. */
interface RestartablePc {
  readonly dtlsTransports: RTCPeerConnection['dtlsTransports'];
  connect(): Promise<void>;
  secureManager?: { setConnectionState(state: 'failed'): void };
}

type IceTransport = RTCPeerConnection['dtlsTransports'][number]['iceTransport'];
/** The ICE generation (restart count) whose checks a `Connection.connect` is running now. */
const CHECKING_GENERATION = Symbol('parley.checking-generation');
type Checked = Connection & { [CHECKING_GENERATION]?: number };

/**
 * Restarted with both sides' credentials and its checks not running (correction 4). The ICE
 * state is not a guide: the checks of the generation before a restart can end just after it and
 * set `connected` on the restarted agent (seen: two ICE restarts 40 ms apart, Firefox then stalled).
 */
function needsStart(ice: IceTransport): boolean {
  const c = ice.connection as Checked;
  return !c.nominated && c.remoteUsername !== '' && c.remotePassword !== ''
    && ice.state !== 'closed' && c[CHECKING_GENERATION] !== c.generation;
}

export function patchWeriftIce(): void {
  const proto = Connection.prototype as PatchedPrototype;
  if (proto[WERIFT_ICE_PATCHED]) return;
  if (typeof proto.restart !== 'function' || typeof proto.addRemoteCandidate !== 'function' || typeof proto.connect !== 'function') {
    // A werift upgrade moved things: failing loudly beats silently talking to Google again.
    throw new Error('werift ICE Connection has no restart/addRemoteCandidate/connect: re-check src/media/worker/werift-ice.ts');
  }

  const restart = proto.restart;
  proto.restart = function (this: Connection) {
    if (!this.options.stunServer) this.stunServer = undefined;
    return restart.call(this);
  };

  const addRemoteCandidate = proto.addRemoteCandidate;
  proto.addRemoteCandidate = function (this: Connection, candidate) {
    if (candidate && isIP(candidate.host) === 0) return Promise.resolve();
    return addRemoteCandidate.call(this, candidate);
  };

  const stun = StunProtocol.prototype;
  if (typeof stun.request !== 'function') throw new Error('werift StunProtocol has no request: re-check src/media/worker/werift-ice.ts');
  const request = stun.request;
  stun.request = function (this: StunProtocol, message, addr, integrityKey, options, onRequestSent) {
    const patient = typeof options === 'object' && options.retransmissions === 0
      ? { ...options, responseTimeout: Math.max(options.responseTimeout ?? 0, CONSENT_PATIENCE_MS) }
      : options;
    return request.call(this, message, addr, integrityKey, patient, onRequestSent);
  };

  const connectIce = proto.connect;
  proto.connect = async function (this: Checked) {
    const generation = this.generation;
    this[CHECKING_GENERATION] = generation;
    try {
      return await connectIce.call(this);
    } finally {
      if (this[CHECKING_GENERATION] === generation) this[CHECKING_GENERATION] = undefined;
    }
  };

  const pc = RTCPeerConnection.prototype as unknown as RestartablePc;
  if (typeof pc.connect !== 'function') throw new Error('werift RTCPeerConnection has no connect: re-check src/media/worker/werift-ice.ts');
  const connect = pc.connect;
  pc.connect = function (this: RestartablePc) {
    const restarted = this.dtlsTransports
      .filter((d) => d.state === 'connected' && needsStart(d.iceTransport))
      .map((d) => d.iceTransport.start().catch(() => {
        // As werift does when a start fails; the room's liveness watch reports it too.
        this.secureManager?.setConnectionState('failed');
      }));
    return Promise.all([connect.call(this), ...restarted]).then(() => undefined);
  };

  Object.defineProperty(proto, WERIFT_ICE_PATCHED, { value: true });
}

