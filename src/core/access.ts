import type { MeetingRecord, ParticipantRecord, PresetPermissions, Store } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { CoreError } from './errors.js';
import { LIMITS, requiredText } from './limits.js';
import type { Links } from './links.js';
import type { MeetingService } from './meetings.js';
import type { ParticipantService } from './participants.js';
import { DEFAULT_PRESET, PERMISSION_FIELDS } from './presets.js';
import type { Availability } from './status.js';

/** The links the APIs hand out, as the room sees them. */
export type LinkRef =
  | { kind: 'personal'; token: string }
  | { kind: 'public'; code: string }
  | { kind: 'conference'; key: string };

/** Where a link leads now: the room, or a page that says why not. */
export type LinkState =
  | 'room' | 'not_started' | 'ended' | 'cancelled' | 'disabled' | 'service_stopped' | 'full'
  | 'invitation_cancelled' | 'not_found';

export interface ResolvedLink {
  meeting: MeetingRecord;
  /** The holder of a personal link. */
  participant?: ParticipantRecord;
  availability: Availability;
  state: LinkState;
}

export interface Admission {
  meeting: MeetingRecord;
  participant: ParticipantRecord;
  permissions: PresetPermissions;
}

const TOKEN = /^[0-9A-Za-z]{16,64}$/;
const CODE = /^[0-9A-Za-z]{4,16}$/;

/** A refused join carries the state the page should show. */
export const refused = (state: LinkState, reason: string, code: 'forbidden' | 'conflict' | 'not_found' = 'forbidden') =>
  new CoreError(code, reason, { details: { state } });

/**
 * Who may enter a meeting through which link, with what rights. The room and the link pages
 * ask here; the rules (schedule, enabled, cancelled, capacity, presets, roles) live nowhere else.
 */
export class AccessService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly meetings: MeetingService,
    private readonly participants: ParticipantService,
    private readonly links: Links,
  ) {}

  async resolve(link: LinkRef): Promise<ResolvedLink | undefined> {
    let meeting: MeetingRecord | undefined;
    let participant: ParticipantRecord | undefined;
    if (link.kind === 'personal') {
      if (!TOKEN.test(link.token)) return undefined;
      const found = await this.participants.findByToken(link.token);
      meeting = found?.meeting;
      participant = found?.participant;
    } else if (link.kind === 'public') {
      if (CODE.test(link.code)) meeting = await this.meetings.findByCode(link.code);
    } else if (TOKEN.test(link.key)) {
      meeting = await this.meetings.findByHashKey(link.key);
    }
    if (!meeting) return undefined;
    const availability = this.meetings.availability(meeting);
    let state: LinkState = availability.state === 'open' ? 'room' : availability.state;
    if (participant?.cancelledAt) state = 'invitation_cancelled';
    return { meeting, participant, availability, state };
  }

  /**
   * Lets someone in, or says why not. A personal link admits its holder; a public link admits a
   * guest by name when the meeting is open to anyone, or to guests. `connected` counts the people
   * in the room now (for the capacity check).
   */
  async admit(link: LinkRef, name: string | undefined, connected: number): Promise<Admission> {
    const resolved = await this.resolve(link);
    if (!resolved) throw refused('not_found', 'this link does not lead to a meeting', 'not_found');
    const { meeting, state } = resolved;
    if (state !== 'room') throw refused(state, STATE_REASONS[state], 'conflict');
    let participant = resolved.participant;
    const alreadyIn = participant?.status === 10;
    if (meeting.maxParticipants !== null && !alreadyIn && connected >= meeting.maxParticipants) {
      throw refused('full', `the meeting is full (${meeting.maxParticipants} people)`, 'conflict');
    }
    if (!participant) {
      // Public links: open meetings take anyone with a name; restricted ones only their guests.
      const guestPreset = meeting.access.authentication ? meeting.access.guestPreset : null;
      if (meeting.access.authentication && guestPreset === null) {
        throw refused('not_found', 'this meeting admits invited people only; use your personal link', 'forbidden');
      }
      const account = await this.accounts.get(meeting.accountId);
      const guestName = requiredText('name', name, LIMITS.personName);
      ({ participant } = await this.participants.add(account, meeting, { name: guestName, role: 'participant', presetName: guestPreset }));
    }
    return { meeting, participant, permissions: await this.permissions(meeting, participant) };
  }

  /** The participant's preset (their own, else the meeting's), adjusted for their role. */
  async permissions(meeting: MeetingRecord, participant: ParticipantRecord): Promise<PresetPermissions> {
    const name = participant.presetName ?? meeting.presetName;
    const preset = (await this.store.presets.findByName(meeting.accountId, name))
      ?? (await this.store.presets.findByName(meeting.accountId, DEFAULT_PRESET));
    const permissions = {} as PresetPermissions;
    for (const field of PERMISSION_FIELDS) permissions[field] = preset ? preset[field] : field !== 'moderate' && !field.startsWith('start');
    if (participant.role === 'host' || participant.role === 'moderator') permissions.moderate = true;
    if (participant.role === 'viewer') {
      permissions.publishAudio = false;
      permissions.publishVideo = false;
      permissions.shareScreen = false;
    }
    return permissions;
  }

  /** The URL of the link, for messages and redirects. */
  urlOf(link: LinkRef, meeting: MeetingRecord): string {
    if (link.kind === 'personal') return `${this.links.base}/e/${link.token}`;
    if (link.kind === 'public') return this.links.meetingUrl(meeting);
    return this.links.conferenceUrl(meeting);
  }
}

const STATE_REASONS: Record<Exclude<LinkState, 'room'>, string> = {
  not_started: 'the meeting has not started yet',
  ended: 'the meeting has ended',
  cancelled: 'the meeting was cancelled',
  disabled: 'the meeting is disabled',
  service_stopped: 'the video service is stopped',
  full: 'the meeting is full',
  invitation_cancelled: 'this invitation was cancelled',
  not_found: 'this link does not lead to a meeting',
};
