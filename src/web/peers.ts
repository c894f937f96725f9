import type { ClientMessage, IceServer, RemoteTrack, TrackSource } from '../protocol/messages.ts';
import { sleep } from './util.ts';

/** Sends a message on the socket if it is open (messages are dropped while it is not). */
export type Send = (message: ClientMessage) => void;

/**
 * An SDP is sent once gathering completes, or once a relay candidate is in, or after this long
 * with what it has (the rest trickles).
 */
const GATHER_TIMEOUT_MS = 2_000;
const ANSWER_TIMEOUT_MS = 15_000;

/**
 * The camera goes out as three simulcast layers, lowest first (the server reads that order): a
 * quarter, a half and the whole picture. The server forwards each person the best layer that their
 * link and tile allow. The low layer (a thumbnail) is capped so that several fit a weak downlink:
 * three at 60 kbit/s and their audio fill a 500 kbit/s link to about 75%, packet overheads
 * included (at 75 kbit/s it was 95%, and lost 10–15%);
 * browsers send fewer layers from a small capture (Chrome: two from 640x480).
 */
export const CAMERA_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 60_000, maxFramerate: 15 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 350_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

/**
 * A screen share goes out as two layers, lowest first: half the size, for a small tile or a link
 * that cannot carry the whole screen (with one layer such a link lost a share's packets or had it
 * paused: measured at 400 kbit/s, 27–30% of the time frozen), and the whole screen at up to
 * Chromium's own cap for a share. (A `maxFramerate` on the half layer made Chromium send both at it.)
 */
export const SCREEN_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
  { rid: 'f', maxBitrate: 2_500_000 },
];

export function iceUfrags(sdp: string): string[] {
  return [...sdp.matchAll(/^a=ice-ufrag:(\S+)/gm)].map((m) => m[1]!);
}

/**
 * Waits for the candidates worth sending in the SDP. With a TURN relay configured, gathering
 * completes only when every relay URL answered or timed out on every interface: one that cannot
 * be reached (UDP blocked, a VPN interface) held every join for the whole timeout (measured: first
 * frames 2.6 s instead of 0.8 s). The first relay candidate is enough to connect from anywhere;
 * host ones came before it, later ones trickle.
 */
function iceGathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      pc.removeEventListener('icecandidate', relay);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const relay = (e: RTCPeerConnectionIceEvent) => {
      if (e.candidate?.type === 'relay') done();
    };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', relay);
  });
}

/**
 * One of our two RTCPeerConnections. ICE is non-trickle first: the SDP goes out with the
 * candidates gathered so far, and any candidate found after that is sent as an `ice` message.
 */
abstract class Transport {
  readonly pc: RTCPeerConnection;
  closed = false;
  private sdpSent = false;

  constructor(
    readonly role: 'publisher' | 'subscriber',
    iceServers: IceServer[],
    protected readonly send: Send,
    onState: (state: RTCPeerConnectionState) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate;
      if (c && c.candidate && this.sdpSent && !this.closed) {
        this.send({
          type: 'ice',
          transport: role,
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment },
        });
      }
    });
    this.pc.addEventListener('connectionstatechange', () => {
      if (!this.closed) onState(this.pc.connectionState);
    });
  }

  /** The local description, once its candidates are gathered (or the wait timed out). */
  protected async localSdp(): Promise<string> {
    await iceGathered(this.pc);
    this.sdpSent = true;
    return this.pc.localDescription?.sdp ?? '';
  }

  /** The ICE username fragments of the server's side (from its last SDP applied here). */
  remoteUfrags(): string[] {
    return iceUfrags(this.pc.remoteDescription?.sdp ?? '');
  }

  close(): void {
    this.closed = true;
    this.pc.close();
  }
}

/**
 * Our sendonly tracks: one m-line per source. The microphone and camera m-lines exist from the
 * start (a null track while off), so muting and turning the camera off or on never renegotiate;
 * screen sharing adds and removes its m-line and publishes again with the whole sources map.
 */
export class Publisher extends Transport {
  private readonly sources = new Map<RTCRtpTransceiver, TrackSource>();
  private started = false;
  private dirty = false;
  private loop: Promise<void> | undefined;
  private pending: { message: ClientMessage; resolve: (sdp: string) => void } | undefined;
  /** Publishing keeps failing; the room shows it. */
  onError: (error: unknown) => void = () => {};
  /** The server's answer refused an m-line this page sends on: nobody receives that source. */
  onRefused: (source: TrackSource) => void = () => {};
  /** Refusals already reported (each transceiver once: later answers repeat them). */
  private readonly refused = new WeakSet<RTCRtpTransceiver>();

  constructor(iceServers: IceServer[], send: Send, onState: (state: RTCPeerConnectionState) => void) {
    super('publisher', iceServers, send, onState);
  }

  /** First publish: the tracks of each source we may send (null: the m-line waits for a track). */
  start(tracks: Partial<Record<TrackSource, MediaStreamTrack | null>>): Promise<void> {
    if (this.started || this.closed) return Promise.resolve();
    this.started = true;
    for (const source of ['microphone', 'camera', 'screen'] as const) {
      if (tracks[source] !== undefined) this.add(source, tracks[source] ?? null);
    }
    return this.negotiate();
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** The sender of one source's m-line, if it has one (tests read its layers' stats). */
  senderOf(source: TrackSource): RTCRtpSender | undefined {
    return [...this.sources].find(([, s]) => s === source)?.[0].sender;
  }

  /** What `source` sends now (null: nothing). Before `start` this is a no-op: start reads the tracks. */
  async setTrack(source: TrackSource, track: MediaStreamTrack | null): Promise<void> {
    if (!this.started || this.closed) return;
    let transceiver = [...this.sources].find(([, s]) => s === source)?.[0];
    // An answer may stop an m-line (port 0, as werift answers an inactive one): it cannot send again.
    if (transceiver && (transceiver.currentDirection === 'stopped' || transceiver.direction === 'stopped')) {
      this.sources.delete(transceiver);
      transceiver = undefined;
    }
    if (source === 'screen') {
      // Stopping a share makes its m-line inactive (rather than stopping the transceiver) and
      // the next share reuses it, so mids stay stable while the server keeps it alive.
      if (!track) {
        if (!transceiver || transceiver.direction === 'inactive') return;
        await transceiver.sender.replaceTrack(null);
        transceiver.direction = 'inactive';
        return this.negotiate();
      }
      if (transceiver) {
        await transceiver.sender.replaceTrack(track);
        if (transceiver.direction === 'sendonly') return;
        transceiver.direction = 'sendonly';
        return this.negotiate();
      }
    } else if (transceiver) {
      return transceiver.sender.replaceTrack(track);
    }
    if (!track) return;
    this.add(source, track);
    return this.negotiate();
  }

  onAnswer(sdp: string): void {
    this.pending?.resolve(sdp);
  }

  /** New ICE credentials (the network dropped or changed): the next offer restarts ICE. */
  restartIce(): Promise<void> {
    if (!this.started || this.closed) return Promise.resolve();
    this.pc.restartIce();
    return this.negotiate();
  }

  /** After a resumed socket: the offer in flight (or its answer) may have been lost on the way. */
  resume(): void {
    if (this.pending) this.send(this.pending.message);
    else if (this.started && this.pc.signalingState !== 'stable') void this.negotiate();
  }

  private add(source: TrackSource, track: MediaStreamTrack | null): void {
    const kind = source === 'microphone' ? 'audio' : 'video';
    const layers = source === 'camera' ? CAMERA_LAYERS : source === 'screen' ? SCREEN_LAYERS : undefined;
    const sendEncodings = layers?.map((l) => ({ ...l }));
    const transceiver = this.pc.addTransceiver(track ?? kind, { direction: 'sendonly', ...(sendEncodings ? { sendEncodings } : {}) });
    this.sources.set(transceiver, source);
  }

  /** Publishes the current set of m-lines; calls during a run are folded into one more run. */
  private negotiate(): Promise<void> {
    this.dirty = true;
    this.loop ??= this.run().finally(() => (this.loop = undefined));
    return this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.publishOnce();
        failures = 0;
      } catch (error) {
        if (this.closed) return;
        failures++;
        if (failures >= 3) {
          this.onError(error);
          return;
        }
        this.dirty = true;
        await sleep(1_000 * failures);
      }
    }
  }

  private async publishOnce(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const sdp = await this.localSdp();
    const sources: Record<string, TrackSource> = {};
    // The whole map, inactive m-lines included (the server only counts sending ones).
    for (const [transceiver, source] of this.sources) if (transceiver.mid !== null) sources[transceiver.mid] = source;
    const message: ClientMessage = { type: 'publish', sdp, sources };
    const answer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error('the server did not answer the publish offer'));
      }, ANSWER_TIMEOUT_MS);
      this.pending = {
        message,
        resolve: (answerSdp) => {
          clearTimeout(timer);
          this.pending = undefined;
          resolve(answerSdp);
        },
      };
      this.send(message);
    });
    if (this.closed) return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.reportRefusals();
  }

  /**
   * A sending m-line answered with port 0 (stopped) or inactive is silently dropped by the
   * browser: the person would go on believing the others see or hear them. It happened to
   * Firefox's camera (issue 8) until the server read bundle-only m-lines right; say so if it
   * ever happens again.
   */
  private reportRefusals(): void {
    for (const [transceiver, source] of this.sources) {
      if (!transceiver.sender.track || this.refused.has(transceiver)) continue;
      // A rejected m-line stops the transceiver (direction and currentDirection 'stopped').
      const current = transceiver.currentDirection;
      if (current !== 'stopped' && !(current === 'inactive' && transceiver.direction === 'sendonly')) continue;
      this.refused.add(transceiver);
      this.onRefused(source);
    }
  }

  override close(): void {
    this.pending = undefined;
    super.close();
  }
}

export interface ReceivedTrack {
  info: RemoteTrack;
  track: MediaStreamTrack;
}

/**
 * The server's offers for everyone else's tracks, answered one after another. After each offer
 * the m-lines are mapped to people again from that offer's `tracks` (a mid may be reused for
 * someone else's track later, so nothing is remembered from earlier offers).
 */
export class Subscriber extends Transport {
  private chain: Promise<void> = Promise.resolve();
  /** The last offer answered, as the server sent it. */
  private answeredOffer: string | undefined;
  /** The offer's data channel: accepted and kept, nothing is sent on it yet. */
  channel: RTCDataChannel | undefined;
  onTracks: (tracks: ReceivedTrack[]) => void = () => {};
  /** An offer could not be applied: the transport is unusable. */
  onError: (error: unknown) => void = () => {};

  constructor(iceServers: IceServer[], send: Send, onState: (state: RTCPeerConnectionState) => void) {
    super('subscriber', iceServers, send, onState);
    this.pc.addEventListener('datachannel', (e) => {
      this.channel = e.channel;
    });
  }

  /** Resolves once this offer is answered (or failed). */
  handleOffer(sdp: string, tracks: RemoteTrack[]): Promise<void> {
    this.chain = this.chain
      .then(() => this.answer(sdp, tracks))
      .catch((error: unknown) => {
        if (!this.closed) this.onError(error);
      });
    return this.chain;
  }

  private async answer(sdp: string, tracks: RemoteTrack[]): Promise<void> {
    if (this.closed) return;
    // The same offer again (re-sent on resume and again for an ICE restart asked meanwhile): it
    // is answered already, and the server takes one answer per offer. Compared with the text we
    // were sent: Firefox's remoteDescription is its own rewriting of it.
    if (this.pc.signalingState === 'stable' && this.answeredOffer === sdp) return;
    this.answeredOffer = undefined;
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.mapTracks(tracks);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const answer = await this.localSdp();
    this.answeredOffer = sdp;
    if (!this.closed) this.send({ type: 'subscriberAnswer', sdp: answer });
  }

  private mapTracks(tracks: RemoteTrack[]): void {
    const byMid = new Map<string, RTCRtpTransceiver>();
    for (const t of this.pc.getTransceivers()) if (t.mid !== null) byMid.set(t.mid, t);
    const received: ReceivedTrack[] = [];
    for (const info of tracks) {
      const track = byMid.get(info.mid)?.receiver.track;
      if (track && track.kind === info.kind) received.push({ info, track });
    }
    this.onTracks(received);
  }
}
