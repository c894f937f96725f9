/** Validation of what browsers send: the join and invitation requests and the socket messages. */
import {
  CHAT_MAX_LENGTH, VIDEO_SIZES_MAX, type ClientMessage, type IceCandidate, type InvitationRequest, type JoinRequest, type RoomLink, type TrackSource,
} from './messages.js';

const SOURCES: readonly TrackSource[] = ['microphone', 'camera', 'screen'];
const MAX_SDP = 200_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

export class ProtocolError extends Error {}

function link(v: unknown): RoomLink {
  if (!isObj(v)) throw new ProtocolError('link is required');
  if (v.kind === 'personal' && str(v.token, 100)) return { kind: 'personal', token: v.token };
  if (v.kind === 'public' && str(v.code, 100)) return { kind: 'public', code: v.code };
  if (v.kind === 'conference' && str(v.key, 100)) return { kind: 'conference', key: v.key };
  throw new ProtocolError('link must be {kind:"personal",token} | {kind:"public",code} | {kind:"conference",key}');
}

function pair(v: unknown, what: string, extra: string[] = []): Record<string, string> {
  if (!isObj(v)) throw new ProtocolError(`${what} must be an object`);
  const out: Record<string, string> = {};
  for (const key of ['username', 'password', ...extra]) {
    const value = v[key];
    if (value === undefined && extra.includes(key)) continue;
    if (!str(value, 1000)) throw new ProtocolError(`${what}.${key} must be text`);
    out[key] = value;
  }
  return out;
}

export function parseJoinRequest(body: unknown): JoinRequest {
  if (!isObj(body)) throw new ProtocolError('the body must be a JSON object');
  if (body.name !== undefined && !str(body.name, 1000)) throw new ProtocolError('name must be text');
  if (body.pin !== undefined && !str(body.pin, 100)) throw new ProtocolError('pin must be text');
  const request: JoinRequest = { link: link(body.link), name: body.name as string | undefined };
  if (body.pin !== undefined) request.pin = body.pin as string;
  if (body.unreachableNode !== undefined) {
    if (!str(body.unreachableNode, 2000)) throw new ProtocolError('unreachableNode must be the address of a node');
    request.unreachableNode = body.unreachableNode;
  }
  if (body.login !== undefined) {
    const { username, password } = pair(body.login, 'login');
    request.login = { username, password };
  }
  if (body.signup !== undefined) {
    const { username, password, email } = pair(body.signup, 'signup', ['email']);
    request.signup = { username, password, ...(email !== undefined ? { email } : {}) };
  }
  return request;
}

export function parseInvitationRequest(body: unknown): InvitationRequest {
  if (!isObj(body) || !str(body.token, 100)) throw new ProtocolError('token is required');
  if (body.answer !== 'accept' && body.answer !== 'decline') throw new ProtocolError('answer must be "accept" or "decline"');
  return { token: body.token, answer: body.answer };
}

function candidate(v: unknown): IceCandidate | null {
  if (v === null) return null;
  if (!isObj(v) || !str(v.candidate, 2000)) throw new ProtocolError('candidate must be an RTCIceCandidateInit or null');
  return {
    candidate: v.candidate,
    sdpMid: str(v.sdpMid, 64) ? v.sdpMid : null,
    sdpMLineIndex: typeof v.sdpMLineIndex === 'number' ? v.sdpMLineIndex : null,
    usernameFragment: str(v.usernameFragment, 256) ? v.usernameFragment : null,
  };
}

const pixels = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 16_384;

function videoSizes(v: unknown): Extract<ClientMessage, { type: 'videoSizes' }>['sizes'] {
  if (!Array.isArray(v) || v.length > VIDEO_SIZES_MAX) throw new ProtocolError(`videoSizes needs sizes, a list of at most ${VIDEO_SIZES_MAX}`);
  return v.map((s: unknown) => {
    if (!isObj(s) || !str(s.participantId, 64) || (s.source !== 'camera' && s.source !== 'screen') || !pixels(s.width) || !pixels(s.height)) {
      throw new ProtocolError('each of videoSizes.sizes needs participantId, source camera|screen, and width and height in pixels');
    }
    return { participantId: s.participantId, source: s.source, width: s.width, height: s.height };
  });
}

/** Checks one WebSocket message from a browser; anything malformed is a ProtocolError. */
export function parseClientMessage(raw: string): ClientMessage {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    throw new ProtocolError('messages must be JSON');
  }
  if (!isObj(m) || typeof m.type !== 'string') throw new ProtocolError('messages must be objects with a type');
  switch (m.type) {
    case 'publish': {
      if (!str(m.sdp, MAX_SDP) || !isObj(m.sources)) throw new ProtocolError('publish needs sdp and sources');
      const sources: Record<string, TrackSource> = {};
      for (const [mid, source] of Object.entries(m.sources)) {
        if (mid.length > 32 || !SOURCES.includes(source as TrackSource)) throw new ProtocolError(`unknown source for mid ${mid.slice(0, 32)}`);
        sources[mid] = source as TrackSource;
      }
      return { type: 'publish', sdp: m.sdp, sources };
    }
    case 'subscriberAnswer':
      if (!str(m.sdp, MAX_SDP)) throw new ProtocolError('subscriberAnswer needs sdp');
      return { type: 'subscriberAnswer', sdp: m.sdp };
    case 'ice':
      if (m.transport !== 'publisher' && m.transport !== 'subscriber') throw new ProtocolError('ice needs transport publisher or subscriber');
      return { type: 'ice', transport: m.transport, candidate: candidate(m.candidate) };
    case 'resetMedia':
    case 'restartIce':
    case 'endForAll':
    case 'leave':
      return { type: m.type };
    case 'setMuted':
      if (!SOURCES.includes(m.source as TrackSource) || typeof m.muted !== 'boolean') throw new ProtocolError('setMuted needs source and muted');
      if (m.seen !== undefined && !(Number.isSafeInteger(m.seen) && (m.seen as number) >= 0)) throw new ProtocolError('setMuted seen must be a non-negative integer');
      return { type: 'setMuted', source: m.source as TrackSource, muted: m.muted, ...(m.seen !== undefined ? { seen: m.seen as number } : {}) };
    case 'chat': {
      if (typeof m.text !== 'string') throw new ProtocolError('chat needs text');
      const text = m.text.trim();
      if (!text) throw new ProtocolError('chat text is empty');
      if (text.length > CHAT_MAX_LENGTH) throw new ProtocolError(`chat text is longer than ${CHAT_MAX_LENGTH} characters`);
      return { type: 'chat', text };
    }
    case 'raiseHand':
      if (typeof m.raised !== 'boolean') throw new ProtocolError('raiseHand needs raised');
      return { type: 'raiseHand', raised: m.raised };
    case 'admit':
    case 'decline':
      if (!str(m.participantId, 64)) throw new ProtocolError(`${m.type} needs participantId`);
      return { type: m.type, participantId: m.participantId };
    case 'moderate':
      if ((m.action !== 'mute' && m.action !== 'remove') || !str(m.participantId, 64)) throw new ProtocolError('moderate needs action mute|remove and participantId');
      return { type: 'moderate', action: m.action, participantId: m.participantId };
    case 'recording':
      if (m.action !== 'start' && m.action !== 'stop') throw new ProtocolError('recording needs action start|stop');
      return { type: 'recording', action: m.action };
    case 'ping':
      return { type: 'ping', t: typeof m.t === 'number' ? m.t : 0 };
    case 'videoSizes':
      return { type: 'videoSizes', sizes: videoSizes(m.sizes) };
    default:
      throw new ProtocolError(`unknown message type "${m.type.slice(0, 40)}"`);
  }
}
