// Two corrections to werift's ICE agent (`Connection`, shared by every RTCPeerConnection of the
// ESM bundle we import), applied once per thread when webrtc.ts is loaded. Checked against
// werift 0.24.4 (lib/index.mjs, "../ice/src/ice.ts"); see src/media/README.md.
import { isIP } from 'node:net';
import { Connection } from 'werift';

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
 */
export const WERIFT_ICE_PATCHED = Symbol.for('parley.werift-ice-patched');

type PatchedPrototype = Connection & { [WERIFT_ICE_PATCHED]?: true };

export function patchWeriftIce(): void {
  const proto = Connection.prototype as PatchedPrototype;
  if (proto[WERIFT_ICE_PATCHED]) return;
  if (typeof proto.restart !== 'function' || typeof proto.addRemoteCandidate !== 'function') {
    // A werift upgrade moved things: failing loudly beats silently talking to Google again.
    throw new Error('werift ICE Connection has no restart/addRemoteCandidate: re-check src/media/worker/werift-ice.ts');
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

  Object.defineProperty(proto, WERIFT_ICE_PATCHED, { value: true });
}
