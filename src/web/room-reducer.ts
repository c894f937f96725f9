import type { EmbedEventName, ParticipantInfo, Permissions, ServerMessage } from '../protocol/messages.ts';
import { sentence } from './notices.ts';
import type { AppState, PauseReason } from './state.ts';

/** Chat kept on the page: the newest this many messages. */
const CHAT_KEPT = 500;

/**
 * What a server message changes on the page. Pure (no DOM, no socket): the Meeting applies the
 * patch, then says, shows and tells what is listed here.
 */
export interface RoomUpdate {
  patch: Partial<AppState>;
  /** For screen readers (the polite live region). */
  announce?: string;
  toast?: string;
  /** For the embedding page. */
  event?: { name: EmbedEventName; data: Record<string, unknown> };
}

/**
 * The page state after a server message about the room (who is in it, the chat, the lobby,
 * what we may do). undefined: the message is about the session or media, not the page state
 * (the Meeting handles it).
 */
export function reduceRoom(state: AppState, m: ServerMessage): RoomUpdate | undefined {
  switch (m.type) {
    case 'welcome':
      return {
        patch: {
          phase: 'room',
          invitation: undefined,
          self: m.self,
          others: m.participants,
          permissions: m.permissions,
          title: m.meeting.title || state.bootstrap.meeting.title,
          chat: m.chat,
          activeSpeaker: m.activeSpeaker,
          ...(m.activeSpeaker && m.activeSpeaker !== m.self.id ? { featured: m.activeSpeaker } : {}),
          recording: m.recording,
          joinError: undefined,
        },
      };
    case 'participantJoined': {
      const p = m.participant;
      const known = p.id === state.self?.id || state.others.some((o) => o.id === p.id);
      const patch = upsert(state, p);
      if (known) return { patch };
      return { patch, announce: `${p.name} joined`, event: { name: 'participantJoined', data: { participantId: p.id, name: p.name } } };
    }
    case 'participantUpdated':
      return { patch: upsert(state, m.participant) };
    case 'participantLeft': {
      const gone = state.others.find((p) => p.id === m.participantId);
      const remote = new Map(state.remote);
      remote.delete(m.participantId);
      const patch = {
        others: state.others.filter((p) => p.id !== m.participantId), remote, ...(state.featured === m.participantId ? { featured: null } : {}),
      };
      if (!gone) return { patch };
      return { patch, announce: `${gone.name} left`, event: { name: 'participantLeft', data: { participantId: gone.id, name: gone.name } } };
    }
    case 'activeSpeaker':
      // The speaker view keeps the last other person who spoke large, also while we talk.
      if (m.participantId && m.participantId !== state.self?.id) return { patch: { activeSpeaker: m.participantId, featured: m.participantId } };
      return { patch: { activeSpeaker: m.participantId } };
    case 'videoPaused': {
      // The whole list, on every change.
      const pausedVideos: Record<string, PauseReason> = {};
      for (const v of Array.isArray(m.videos) ? m.videos : []) {
        if ((v?.source === 'camera' || v?.source === 'screen') && (v.reason === 'last-n' || v.reason === 'bandwidth')) pausedVideos[`${v.participantId}:${v.source}`] = v.reason;
      }
      return { patch: { pausedVideos } };
    }
    case 'recording': {
      const said = m.recording ? 'Recording started' : m.error ? `Recording stopped: ${m.error}` : 'Recording stopped';
      return { patch: { recording: m.recording }, announce: said, toast: said };
    }
    case 'chat': {
      const unseen = state.panel !== 'chat' && m.message.from !== state.self?.id;
      const patch = { chat: [...state.chat, m.message].slice(-CHAT_KEPT), unreadChat: unseen ? state.unreadChat + 1 : state.unreadChat };
      return unseen ? { patch, announce: `New message from ${m.message.name}` } : { patch };
    }
    case 'lobbyQueue': {
      // The whole list, on every change.
      const waiting = Array.isArray(m.waiting)
        ? m.waiting.filter((w) => w && typeof w.id === 'string').map((w) => ({ id: w.id, name: String(w.name ?? '') }))
        : [];
      return { patch: { waiting } };
    }
    case 'permissions':
      return permissionsChanged(state, m.permissions);
    default:
      return undefined;
  }
}

function upsert(state: AppState, p: ParticipantInfo): Partial<AppState> {
  if (p.id === state.self?.id) return { self: p };
  const others = state.others.some((o) => o.id === p.id) ? state.others.map((o) => (o.id === p.id ? p : o)) : [...state.others, p];
  return { others };
}

const PERMISSION_NAMES: [keyof Permissions, string][] = [
  ['publishAudio', 'your microphone'], ['publishVideo', 'your camera'], ['shareScreen', 'screen sharing'], ['chat', 'the chat'], ['moderate', 'the host controls'],
];

/** The organiser changed what we may do while we are in the room (the server already enforces it). */
function permissionsChanged(state: AppState, permissions: Permissions): RoomUpdate {
  const before = state.permissions;
  if (!before || state.phase !== 'room') return { patch: {} };
  const patch: Partial<AppState> = { permissions, ...(permissions.moderate ? {} : { waiting: [] }) };
  const gained = PERMISSION_NAMES.filter(([k]) => permissions[k] && !before[k]).map(([, n]) => n);
  const lost = PERMISSION_NAMES.filter(([k]) => !permissions[k] && before[k]).map(([, n]) => n);
  const parts = [gained.length ? `you can now use ${gained.join(', ')}` : '', lost.length ? `you can no longer use ${lost.join(', ')}` : ''].filter(Boolean);
  return parts.length ? { patch, toast: sentence(`The organiser changed this meeting: ${parts.join('; ')}`) } : { patch };
}
