import { hash, verify } from '@node-rs/argon2';
import type { AccessSettings, MeetingRecord, ParticipantRecord, PresetPermissions, Store } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { InFlight, type Limit } from './attempts.js';
import { IN_PROCESS, type Coordination, type Limiter } from './coordination.js';
import { CoreError, invalid } from './errors.js';
import { LIMITS, requiredText } from './limits.js';
import type { MeetingService } from './meetings.js';
import type { ParticipantService } from './participants.js';
import { waitsInLobby } from './room.js';
import { DEFAULT_PRESET, PERMISSION_FIELDS } from './presets.js';
import { isConnected, type Availability } from './status.js';
import type { UserService } from './users.js';

/** The links the APIs hand out, as the room sees them. */
export type LinkRef =
  | { kind: 'personal'; token: string }
  | { kind: 'public'; code: string }
  | { kind: 'conference'; key: string };

/** Where a link leads now: the room, or a page that says why not. */
export type LinkState =
  | 'room' | 'not_started' | 'ended' | 'cancelled' | 'disabled' | 'service_stopped' | 'full'
  | 'invitation_cancelled' | 'not_found';

/** How someone without a personal link may come in (see the Livebox settings). */
export interface WaysIn {
  /** With a name only: the meeting is open, or takes guests. */
  guest: boolean;
  pin: boolean;
  usernamePassword: boolean;
  signup: boolean;
}

export interface ResolvedLink {
  meeting: MeetingRecord;
  /** The holder of a personal link. */
  participant?: ParticipantRecord;
  availability: Availability;
  state: LinkState;
}

/** What a person brings to the door of a public link. */
export interface Credentials {
  name?: string;
  pin?: string;
  login?: { username: string; password: string };
  signup?: { username: string; password: string; email?: string };
}

export interface Admission {
  meeting: MeetingRecord;
  participant: ParticipantRecord;
  permissions: PresetPermissions;
  /** Before this instant the admission is not yet good (early join tokens). */
  notBefore: Date;
  /** They wait in the lobby until a host or moderator lets them in. */
  lobby: boolean;
}

const TOKEN = /^[0-9A-Za-z]{16,64}$/;
const CODE = /^[0-9A-Za-z]{4,16}$/;
/** A join token may be asked for this long before the start; it opens the room only then. */
export const EARLY_JOIN_MS = 60_000;
// Spent on a PIN check when the meeting has no PIN, so its absence does not show in the timing.
const NO_PIN = hash('parley-no-pin');

/** Wrong PINs and passwords (docs/room.md). */
export const GUESS_LIMITS = { perAddress: 5, perMeeting: 50, perUser: 10, windowMs: 15 * 60_000 };
/** Joins through a public link (each adds a participant), per meeting and address and per meeting. */
export const JOIN_LIMITS = { perAddress: 20, perMeeting: 500, windowMs: 10 * 60_000 };
/** argon2 checks running at once; more are refused, not queued. */
export const VERIFYING_LIMITS = { perAddress: 2, perMeeting: 8, total: 16 };

/** A refused join carries the state the page should show. */
export const refused = (state: LinkState, reason: string, code: 'forbidden' | 'conflict' | 'not_found' = 'forbidden') =>
  new CoreError(code, reason, { details: { state } });

/**
 * Who may enter a meeting through which link, with what rights and when. The room and the link
 * pages ask here; the rules (schedule, enabled, cancelled, capacity, ways in, presets, roles,
 * lobby) live nowhere else.
 */
export class AccessService {
  // Counted for the whole cluster (Coordination); argon2 work in flight is per node's CPU.
  private readonly guesses: Limiter;
  private readonly signups: Limiter;
  private readonly joins: Limiter;
  private readonly verifying = new InFlight();

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly meetings: MeetingService,
    private readonly participants: ParticipantService,
    private readonly users: UserService,
    coordination: Coordination = IN_PROCESS,
  ) {
    this.guesses = coordination.limiter('guess', GUESS_LIMITS.windowMs);
    this.signups = coordination.limiter('signup', 60 * 60_000, 'too many sign-ups');
    this.joins = coordination.limiter('join', JOIN_LIMITS.windowMs, 'too many joins through this link');
  }

  async resolve(link: LinkRef, now = new Date()): Promise<ResolvedLink | undefined> {
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
    const availability = this.meetings.availability(meeting, now);
    let state: LinkState = availability.state === 'open' ? 'room' : availability.state;
    if (participant?.cancelledAt) state = 'invitation_cancelled';
    return { meeting, participant, availability, state };
  }

  waysIn(access: AccessSettings): WaysIn {
    if (!access.authentication) return { guest: true, pin: false, usernamePassword: false, signup: false };
    return { guest: access.guestPreset !== null, pin: access.pin, usernamePassword: access.usernamePassword, signup: access.signupPreset !== null };
  }

  /**
   * Lets someone in, or says why not. A personal link admits its holder; a public link admits
   * through one of the meeting's ways in (see Credentials). `connected` counts the people in the
   * room now (capacity); `address` is the caller's, for limiting wrong PINs and passwords.
   */
  async admit(link: LinkRef, credentials: Credentials, connected: number, address: string, now = new Date()): Promise<Admission> {
    const resolved = await this.resolve(link, now);
    if (!resolved) throw refused('not_found', 'this link does not lead to a meeting', 'not_found');
    const { meeting } = resolved;
    let notBefore = now;
    if (resolved.state === 'not_started' && meeting.startsAt && meeting.startsAt.getTime() - now.getTime() <= EARLY_JOIN_MS) {
      notBefore = meeting.startsAt; // a page counting down may get its token a little early
    } else if (resolved.state !== 'room') {
      throw refused(resolved.state, STATE_REASONS[resolved.state], 'conflict');
    }
    let participant = resolved.participant;
    const alreadyIn = participant !== undefined && isConnected(participant.status);
    if (meeting.maxParticipants !== null && !alreadyIn && connected >= meeting.maxParticipants) {
      throw refused('full', `the meeting is full (${meeting.maxParticipants} people)`, 'conflict');
    }
    participant ??= await this.enterByPublicLink(meeting, credentials, address);
    const permissions = await this.permissions(meeting, participant);
    return { meeting, participant, permissions, notBefore, lobby: waitsInLobby(meeting, permissions) };
  }

  /** Accept or decline an invitation from its personal link, before joining. */
  async respond(token: string, answer: 'accepted' | 'declined'): Promise<ParticipantRecord> {
    const resolved = await this.resolve({ kind: 'personal', token });
    if (!resolved?.participant) throw refused('not_found', 'this link does not lead to an invitation', 'not_found');
    if (resolved.state === 'invitation_cancelled') throw refused('invitation_cancelled', STATE_REASONS.invitation_cancelled, 'conflict');
    if (resolved.state === 'ended' || resolved.state === 'cancelled') throw refused(resolved.state, STATE_REASONS[resolved.state], 'conflict');
    if (resolved.participant.role === 'host') throw new CoreError('conflict', 'this is the host’s own link: there is no invitation to accept or decline');
    return this.participants.respond(resolved.participant, answer);
  }

  /** The participant's preset (their own, else the meeting's), adjusted for their role. */
  async permissions(meeting: MeetingRecord, participant: ParticipantRecord): Promise<PresetPermissions> {
    const preset = (await this.store.presets.findByName(meeting.accountId, participant.presetName ?? meeting.presetName))
      ?? (await this.store.presets.findByName(meeting.accountId, DEFAULT_PRESET));
    if (!preset) throw new Error(`account ${meeting.accountId} has no ${DEFAULT_PRESET}`);
    const permissions = {} as PresetPermissions;
    for (const field of PERMISSION_FIELDS) permissions[field] = preset[field];
    if (participant.role === 'host' || participant.role === 'moderator') {
      permissions.moderate = true;
      permissions.record = true;
    }
    if (participant.role === 'viewer') {
      permissions.publishAudio = false;
      permissions.publishVideo = false;
      permissions.shareScreen = false;
    }
    return permissions;
  }

  /** A public link: the first way in the credentials ask for and the meeting allows. */
  private async enterByPublicLink(meeting: MeetingRecord, c: Credentials, address: string): Promise<ParticipantRecord> {
    const ways = this.waysIn(meeting.access);
    if (!ways.guest && !ways.pin && !ways.usernamePassword && !ways.signup) {
      throw refused('not_found', 'this meeting admits invited people only; use your personal link');
    }
    // Every way in adds a participant: scripted joins must not flood the meeting or its lobby.
    const joinLimits = [
      { key: `m:${meeting.id}|a:${address}`, max: JOIN_LIMITS.perAddress },
      { key: `m:${meeting.id}`, max: JOIN_LIMITS.perMeeting },
    ];
    await this.joins.check(joinLimits);
    const account = await this.accounts.get(meeting.accountId);
    const join = async (name: string, presetName: string | null) => {
      await this.joins.take(joinLimits); // counted as the row is written, checked again in the same step
      return (await this.participants.add(account, meeting, { name, role: 'participant', presetName })).participant;
    };

    if (c.login) {
      // Self-registered visitors sign in again where sign-up is allowed; the account's users where
      // username/password is.
      if (!ways.usernamePassword && !ways.signup) throw invalid('login', 'is not a way into this meeting');
      const { username, password } = c.login;
      // A password is good in every such meeting of the account: guesses also count per user.
      const user = await this.guess(meeting, address, [{ key: `u:${account.id}|${username}`, max: GUESS_LIMITS.perUser }],
        () => this.users.verifyPassword(account, username, password));
      if (user.signupMeetingId !== null) {
        if (!ways.signup) {
          throw new CoreError('forbidden', 'you registered yourself at another meeting; this one admits the account’s users only');
        }
        return join(user.displayName, meeting.access.signupPreset);
      }
      if (!ways.usernamePassword) throw new CoreError('forbidden', 'this meeting does not take sign-ins, only new registrations');
      return join(user.displayName, null);
    }
    if (c.signup) {
      if (!ways.signup) throw invalid('signup', 'is not a way into this meeting');
      const name = requiredText('name', c.name, LIMITS.personName);
      const presetName = meeting.access.signupPreset!;
      const release = this.verifying.enter(this.verifyingLimits(meeting, address)); // hashing the password is argon2 work too
      try {
        // Registration creates the account's users: every sign-up counts, right or not.
        await this.signups.take([{ key: `m:${meeting.id}|a:${address}`, max: 10 }, { key: `m:${meeting.id}`, max: 200 }]);
        const { user } = await this.users.create(account, {
          username: c.signup.username, password: c.signup.password, email: c.signup.email, displayName: name,
          signup: { meetingId: meeting.id, presetName },
        });
        return await join(user.displayName, presetName);
      } finally {
        release();
      }
    }
    if (c.pin !== undefined) {
      if (!ways.pin) throw invalid('pin', 'is not a way into this meeting');
      const name = requiredText('name', c.name, LIMITS.personName);
      const pin = c.pin.trim();
      await this.guess(meeting, address, [], async () => {
        const right = (await verify(meeting.pinHash ?? await NO_PIN, pin)) && meeting.pinHash !== null;
        if (!right) throw new CoreError('unauthenticated', 'is wrong', { field: 'pin' });
      });
      return join(name, null);
    }
    if (!ways.guest) {
      throw new CoreError('unauthenticated', `this meeting asks for ${describeWays(ways)}`, { details: { ways } });
    }
    const name = requiredText('name', c.name, LIMITS.personName);
    return join(name, meeting.access.authentication ? meeting.access.guestPreset : null);
  }

  /**
   * One PIN or password check, limited: it counts as a wrong attempt (per meeting and address,
   * per meeting, and `extra`) before the slow verification starts and is taken back only when
   * `check` succeeds, so parallel requests cannot all slip past the limit; and only a few
   * verifications run at once per address and per meeting.
   */
  private async guess<T>(meeting: MeetingRecord, address: string, extra: Limit[], check: () => Promise<T>): Promise<T> {
    const release = this.verifying.enter(this.verifyingLimits(meeting, address));
    try {
      const attempt = await this.guesses.take([
        { key: `m:${meeting.id}|a:${address}`, max: GUESS_LIMITS.perAddress },
        { key: `m:${meeting.id}`, max: GUESS_LIMITS.perMeeting },
        ...extra,
      ]);
      const result = await check();
      await attempt.takeBack();
      return result;
    } finally {
      release();
    }
  }

  private verifyingLimits(meeting: MeetingRecord, address: string): Limit[] {
    return [
      { key: `a:${address}`, max: VERIFYING_LIMITS.perAddress },
      { key: `m:${meeting.id}`, max: VERIFYING_LIMITS.perMeeting },
      { key: '*', max: VERIFYING_LIMITS.total },
    ];
  }
}

function describeWays(ways: WaysIn): string {
  const words = [ways.pin && 'a PIN', ways.usernamePassword && 'a username and password', ways.signup && 'registration'].filter(Boolean);
  return words.join(' or ');
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
