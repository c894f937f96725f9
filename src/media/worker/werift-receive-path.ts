// A received SRTP packet goes from its UDP socket straight to the transport's RTP router. In werift
// 0.24.4 each one went through seven layers before that: the socket's UdpTransport handler (an
// address array), the ICE protocol (a STUN parse attempt), two `Event`s, the ICE connection's
// handler, the DTLS transport's handler (another `Event`), and the SRTP session, which copied the
// stream's rollover state into a new object per packet and parsed the header once for the cipher
// and once more for the RtpPacket. On this VM a datagram's first touch of any code is what costs
// (a call right after the thread wakes is ~4x a warm one), so fewer layers is fewer cold calls.
// Same counters, same rollover state, same drops; RTCP, STUN and DTLS take werift's own path, and
// so does everything before the transport's SRTP keys exist (test/unit/werift-receive-path.test.ts).
import { Socket } from 'node:dgram';
import { RTCDtlsTransport, RtpPacket, isMedia, isRtcp, type RtpHeader } from 'werift';
import { interceptDatagrams } from './udp-sockets.js';
import { parseSrtpRtpHeader } from './werift-srtp.js';

const PATCHED = Symbol.for('parley.werift-receive-path-patched');

/** werift's per-SSRC SRTP state (`SrtpContext.srtpSSRCStates`). */
interface SsrcState {
  ssrc: number;
  rolloverCounter: number;
  lastSequenceNumber: number;
  rolloverHasProcessed?: boolean;
}

interface SrtpContext {
  srtpSSRCStates: Record<number, SsrcState | undefined>;
  updateRolloverCount(sequenceNumber: number, state: SsrcState): void;
  readonly rtpAuthTagLength: number;
  cipher: { decryptRtp(cipherText: Buffer, rolloverCounter: number, header: RtpHeader): [Buffer, RtpHeader] };
}

interface CandidatePair {
  protocol: unknown;
  packetsReceived: number;
  bytesReceived: number;
}

interface IceProtocol {
  transport?: { socket?: unknown; rinfo?: unknown };
}

interface IceConnection {
  nominated?: CandidatePair;
  protocols: IceProtocol[];
}

/** The parts of werift's RTCDtlsTransport that its SRTP receive handler uses. */
interface DtlsTransportInternals {
  srtpStarted: boolean;
  srtp?: { remoteContext: SrtpContext };
  bytesReceived: number;
  packetsReceived: number;
  config: { debug?: { inboundPacketLoss?: number } };
  iceTransport: { connection: IceConnection; onStateChange: { subscribe(f: (state: string) => void): unknown } };
  onRtp: { execute(packet: RtpPacket): void };
  startSrtp(): void;
}

// Reused for each packet's rollover update: committed to werift's state only once it authenticated.
const next: SsrcState = { ssrc: 0, rolloverCounter: 0, lastSequenceNumber: 0 };

/** What werift's SrtpContext.decryptRtp does, without a new state object per packet. */
function decrypt(context: SrtpContext, data: Buffer): [Buffer, RtpHeader] {
  const header = parseSrtpRtpHeader(data, context.rtpAuthTagLength);
  const existing = context.srtpSSRCStates[header.ssrc];
  next.ssrc = header.ssrc;
  next.rolloverCounter = existing?.rolloverCounter ?? 0;
  next.lastSequenceNumber = existing?.lastSequenceNumber ?? 0;
  next.rolloverHasProcessed = existing?.rolloverHasProcessed;
  context.updateRolloverCount(header.sequenceNumber, next);
  const result = context.cipher.decryptRtp(data, next.rolloverCounter, header);
  if (existing) {
    existing.rolloverCounter = next.rolloverCounter;
    existing.lastSequenceNumber = next.lastSequenceNumber;
    existing.rolloverHasProcessed = next.rolloverHasProcessed;
  } else {
    context.srtpSSRCStates[header.ssrc] = { ...next };
  }
  return result;
}

/**
 * Takes an SRTP packet (not RTCP) that arrived on `protocol`'s socket for `dtls`, once its keys
 * exist. Returns false for anything werift must see itself.
 */
function receive(dtls: DtlsTransportInternals, protocol: IceProtocol, data: Buffer, rinfo: unknown): boolean {
  if (!isMedia(data) || isRtcp(data) || !dtls.srtpStarted || !dtls.srtp || dtls.config.debug?.inboundPacketLoss) return false;
  if (protocol.transport) protocol.transport.rinfo = rinfo;
  const pair = dtls.iceTransport.connection.nominated;
  if (pair && pair.protocol === protocol) {
    pair.packetsReceived++;
    pair.bytesReceived += data.length;
  }
  dtls.bytesReceived += data.length;
  dtls.packetsReceived++;
  let decrypted: Buffer;
  let header: RtpHeader;
  try {
    [decrypted, header] = decrypt(dtls.srtp.remoteContext, data);
  } catch {
    // Dropped, as werift drops a packet that fails authentication; any other error on a peer's
    // datagram werift's socket handler logs and drops too: none may reach the event loop.
    return true;
  }
  const packet = new RtpPacket(header, decrypted.subarray(header.payloadOffset, decrypted.length - header.paddingSize));
  try {
    dtls.onRtp.execute(packet);
  } catch {
    // werift logs and goes on: one subscriber's error must not stop the socket
  }
  return true;
}

/** Routes the SRTP of every UDP socket `dtls`'s ICE connection has now (new ones after a restart too). */
function takeSockets(dtls: DtlsTransportInternals): void {
  for (const protocol of dtls.iceTransport.connection.protocols) {
    const socket = protocol.transport?.socket;
    // A UDP socket: an ICE-TCP candidate's is a stream, whose data werift frames itself.
    if (socket instanceof Socket) interceptDatagrams(socket, (data, rinfo) => receive(dtls, protocol, data, rinfo));
  }
}

export function patchWeriftReceivePath(): void {
  const proto = RTCDtlsTransport.prototype as unknown as DtlsTransportInternals & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const { startSrtp } = proto;
  if (typeof startSrtp !== 'function') throw new Error('werift changed: RTCDtlsTransport.startSrtp is gone (see werift-receive-path.ts)');
  proto.startSrtp = function (this: DtlsTransportInternals) {
    const first = !this.srtpStarted;
    startSrtp.call(this);
    if (!first) return;
    if (!this.iceTransport?.connection?.protocols) throw new Error('werift changed: the ICE connection has no protocols (see werift-receive-path.ts)');
    takeSockets(this);
    this.iceTransport.onStateChange.subscribe((state) => {
      if (state === 'connected' || state === 'completed') takeSockets(this);
    });
  };
  proto[PATCHED] = true;
}
