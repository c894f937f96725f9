import type { MeetingRecord, ParticipantRecord } from '../../store/index.js';

/**
 * The events an endpoint may subscribe to. `recording.*` are reserved for recordings (issue 11):
 * an endpoint may subscribe to them now and will receive them once recordings exist.
 */
export const WEBHOOK_EVENT_TYPES = [
  'meeting.started',
  'meeting.ended',
  'participant.joined',
  'participant.left',
  'participant.knocked',
  'participant.responded',
  'participant.muted',
  'participant.removed',
  'recording.started',
  'recording.ready',
  'recording.failed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** `ping`: the test event, sent to one endpoint on request, whatever it subscribes to. */
export type WebhookSentType = WebhookEventType | 'ping';

export const isWebhookEventType = (value: string): value is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/** The meeting an event is about, as every surface names it. */
export interface WebhookMeeting {
  id: string;
  /** The account's key: the LiveMinutes meetingKey, the Livebox conference name. */
  key: string;
  title: string;
  /** LiveMinutes status code now: 1 start, 8 in progress, 11 host quit, 12 finish. */
  status: number;
  createdVia: MeetingRecord['createdVia'];
}

/** The person an event is about. */
export interface WebhookParticipant {
  id: string;
  /** The integrator's id for the person (LiveMinutes puid); null for people who came by a public link. */
  externalId: string | null;
  name: string;
  role: ParticipantRecord['role'];
  /** LiveMinutes status code now: 2 accept, 3 refuse, 10 in progress, 11 quit. */
  status: number;
}

/** The JSON body of every webhook request. */
export interface WebhookPayload {
  id: string;
  type: WebhookSentType;
  /** When it happened (ISO 8601, UTC). */
  createdAt: string;
  accountId: string;
  meeting: WebhookMeeting | null;
  participant: WebhookParticipant | null;
  data: Record<string, unknown>;
}

/** Who moderated: a host or moderator in the room, or the account's backend through the live API. */
export type Moderator = { kind: 'participant'; participantId: string; name: string } | { kind: 'api' };

export function meetingOf(m: MeetingRecord): WebhookMeeting {
  return { id: m.id, key: m.key, title: m.title || m.key, status: m.status, createdVia: m.createdVia };
}

export function participantOf(p: ParticipantRecord): WebhookParticipant {
  return { id: p.id, externalId: p.externalId, name: p.name, role: p.role, status: p.status };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** What a meeting's status change means to webhooks: started (→ 8 from not live), ended (→ 12). */
export function meetingChangeEvent(before: MeetingRecord, after: MeetingRecord): { type: WebhookEventType; data: Record<string, unknown> } | undefined {
  const live = (s: number) => s === 8 || s === 11;
  if (after.status === 8 && !live(before.status)) return { type: 'meeting.started', data: { startedAt: iso(after.startedAt) } };
  if (after.status === 12 && before.status !== 12) {
    return { type: 'meeting.ended', data: { reason: after.endReason, startedAt: iso(after.startedAt), endedAt: iso(after.endedAt), wasLive: live(before.status) } };
  }
  return undefined;
}

/** What a participant's status change means to webhooks. */
export function participantChangeEvent(
  before: ParticipantRecord, after: ParticipantRecord, event: 'connected' | 'left' | 'accepted' | 'declined' | 'reset',
): { type: WebhookEventType; data: Record<string, unknown> } | undefined {
  if (event === 'connected' && after.status === 10 && before.status !== 10) return { type: 'participant.joined', data: { joinedAt: iso(after.joinedAt) } };
  if (event === 'left' && before.status === 10 && after.status === 11) return { type: 'participant.left', data: { leftAt: iso(after.leftAt) } };
  if (event === 'accepted' || event === 'declined') return { type: 'participant.responded', data: { response: event } };
  return undefined;
}
