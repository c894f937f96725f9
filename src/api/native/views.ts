import { MEETING_STATUS, PARTICIPANT_STATUS, type Core } from '../../core/index.js';
import type { AccountRecord, MeetingRecord, MeetingStatus, ParticipantRecord, ParticipantStatus, PresetRecord, UserRecord } from '../../store/index.js';

/** Records as the native API shows them. */

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The native API's words for the core's status codes. */
const MEETING_STATUS_NAMES: Record<MeetingStatus, string> = {
  [MEETING_STATUS.created]: 'created', [MEETING_STATUS.inProgress]: 'in_progress', [MEETING_STATUS.hostLeft]: 'host_left', [MEETING_STATUS.finished]: 'ended',
};
const PARTICIPANT_STATUS_NAMES: Record<ParticipantStatus, string> = {
  [PARTICIPANT_STATUS.invited]: 'invited', [PARTICIPANT_STATUS.declined]: 'declined', [PARTICIPANT_STATUS.inProgress]: 'in_progress', [PARTICIPANT_STATUS.left]: 'left',
};

export function meetingView(core: Core, m: MeetingRecord, pin?: string) {
  return {
    id: m.id,
    key: m.key,
    title: m.title,
    description: m.description,
    language: m.language,
    status: MEETING_STATUS_NAMES[m.status],
    statusCode: m.status,
    endReason: m.endReason,
    availability: core.meetings.availability(m).state,
    enabled: m.enabled,
    startsAt: iso(m.startsAt),
    endsAt: iso(m.endsAt),
    preset: m.presetName,
    access: {
      mode: m.access.authentication ? 'restricted' : 'open',
      usernamePassword: m.access.usernamePassword,
      pin: m.access.pin,
      signupPreset: m.access.signupPreset,
      guestPreset: m.access.guestPreset,
    },
    maxParticipants: m.maxParticipants,
    lobby: m.lobby,
    autoRecord: m.autoRecord,
    hostExternalId: m.hostExternalId,
    links: { meeting: core.links.meetingUrl(m), conference: core.links.conferenceUrl(m), embed: core.links.embedUrl(m) },
    ...(pin ? { pin } : {}),
    createdVia: m.createdVia,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    startedAt: iso(m.startedAt),
    endedAt: iso(m.endedAt),
    cancelledAt: iso(m.cancelledAt),
  };
}

export function participantView(core: Core, p: ParticipantRecord) {
  return {
    id: p.id,
    meetingId: p.meetingId,
    externalId: p.externalId,
    name: p.name,
    email: p.email,
    role: p.role,
    preset: p.presetName,
    status: PARTICIPANT_STATUS_NAMES[p.status],
    statusCode: p.status,
    cancelled: p.cancelledAt !== null,
    joinUrl: p.cancelledAt ? null : core.links.participantUrl(p),
    joinedAt: iso(p.joinedAt),
    leftAt: iso(p.leftAt),
    createdAt: p.createdAt.toISOString(),
  };
}

export function presetView(p: PresetRecord) {
  return {
    id: p.id,
    name: p.name,
    publishAudio: p.publishAudio,
    publishVideo: p.publishVideo,
    shareScreen: p.shareScreen,
    chat: p.chat,
    moderate: p.moderate,
    record: p.record,
    startAudioMuted: p.startAudioMuted,
    startVideoOff: p.startVideoOff,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export function userView(u: UserRecord, apiKey?: string) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    hasPassword: u.passwordHash !== null,
    apiPermission: u.apiPermission,
    hasApiKey: u.apiKeyHash !== null,
    selfRegistered: u.signupMeetingId !== null,
    signupMeetingId: u.signupMeetingId,
    signupPreset: u.signupPreset,
    ...(apiKey ? { apiKey } : {}),
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

export function accountView(core: Core, a: AccountRecord) {
  const quotas = core.accounts.quotas(a);
  return {
    id: a.id,
    name: a.name,
    timeZone: a.timeZone,
    accountSid: a.accountSid,
    maxMeetings: quotas.maxMeetings,
    maxUsers: quotas.maxUsers,
    serviceControl: a.serviceControl,
    corsOrigins: [...a.corsOrigins],
    rateLimitPerMinute: core.rateLimits.limitOf(a),
    recordingRetentionDays: a.recordingRetentionDays,
    createdAt: a.createdAt.toISOString(),
  };
}
