import { randomInt } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type {
  AccessSettings, AccountRecord, ApiSurface, EndReason, MeetingRecord, PageQuery, ParticipantRecord, Repositories, Store,
} from '../store/index.js';
import { UniqueViolation } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { CoreError, conflict, invalid, notFound } from './errors.js';
import type { CoreEventBus } from './events.js';
import type { WebhookOutbox } from './webhooks/index.js';
import { freeText, hasControlCharacters, LIMITS, lookupKey, matching, optionalText, PATTERNS, plural, requiredText } from './limits.js';
import type { Links } from './links.js';
import type { ParticipantService } from './participants.js';
import { DEFAULT_PRESET, type PresetService } from './presets.js';
import { newId, randomBase32 } from './secrets.js';
import { assertNotNativeApp, type Actor } from './actor.js';
import { isLive, isSwitchedOn, MEETING_STATUS, meetingAvailability, nextMeetingState, PARTICIPANT_STATUS, type Availability, type MeetingEvent } from './status.js';

/** Fields every API may set on a meeting; absent fields keep their value (or the default). */
export interface MeetingInput {
  title?: string;
  description?: string;
  language?: string;
  startsAt?: Date | null;
  endsAt?: Date | null;
  enabled?: boolean;
  presetName?: string;
  access?: Partial<AccessSettings>;
  /** Sets the PIN; when PIN entry is on and no PIN exists, one is generated and returned once. */
  pin?: string;
  maxParticipants?: number | null;
  lobby?: boolean;
  /** Recording starts by itself when the meeting starts. */
  autoRecord?: boolean;
  /**
   * The calling surface cannot invite anyone (Livebox has no personal links): a restricted
   * meeting must then have a way in of its own, or nobody could enter.
   */
  withoutPersonalLinks?: boolean;
}

export interface CreateMeetingInput extends MeetingInput {
  /** Empty or absent: generated. */
  key?: string;
  host?: { externalId: string; name?: string; email?: string };
  via: ApiSurface;
  from?: string | null;
}

export interface MeetingResult {
  meeting: MeetingRecord;
  /** Plain PIN, present only when this call generated or set it. */
  pin?: string;
}

const OPEN_ACCESS: AccessSettings = { authentication: false, usernamePassword: false, pin: false, signupPreset: null, guestPreset: null };

const HOUR_MS = 3600_000;

/**
 * The rules of a schedule window, the same on every surface: real times, the end after the
 * start, and, judged against `now` when the window is being set (`now` absent: a window set
 * earlier, which may have run out since): not already over, and at most LIMITS.durationHours
 * long, from its start or, without one, from now (a meeting without a start may begin at once).
 * A window without an end has no length to limit.
 */
export function checkWindow(startsAt: Date | null, endsAt: Date | null, now?: Date): void {
  for (const [field, value] of [['startsAt', startsAt], ['endsAt', endsAt]] as const) {
    if (value && Number.isNaN(value.getTime())) throw invalid(field, 'is not a valid time');
  }
  if (startsAt && endsAt && endsAt.getTime() <= startsAt.getTime()) throw invalid('endsAt', 'must be after the start');
  if (!now || !endsAt) return;
  // A window that is already over would only ever say "ended": a wrong date or time zone.
  if (endsAt.getTime() <= now.getTime()) throw invalid('endsAt', 'is in the past: the meeting would already be over');
  const from = startsAt ?? now;
  if (endsAt.getTime() - from.getTime() > LIMITS.durationHours * HOUR_MS) {
    const days = LIMITS.durationHours / 24;
    throw invalid('endsAt', `must be at most ${LIMITS.durationHours} hours (${plural(days, 'day')}) ${startsAt ? 'after the start' : 'from now'}: that is the longest a meeting may be scheduled`);
  }
}

/** Can anyone enter a restricted meeting without a personal link? */
export function hasWayIn(access: AccessSettings): boolean {
  return !access.authentication || access.usernamePassword || access.pin || access.signupPreset !== null || access.guestPreset !== null;
}

function checkPin(pin: string): string {
  if (pin.length < LIMITS.pinMin || pin.length > LIMITS.pinMax || !PATTERNS.pin.test(pin)) {
    throw invalid('pin', `must be ${LIMITS.pinMin} to ${LIMITS.pinMax} digits`);
  }
  return pin;
}

export class MeetingService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly presets: PresetService,
    private readonly participants: ParticipantService,
    private readonly links: Links,
    private readonly events: CoreEventBus,
    private readonly isServiceRunning: () => boolean,
    private readonly outbox: WebhookOutbox,
  ) {}

  async create(account: AccountRecord, input: CreateMeetingInput, now = new Date()): Promise<MeetingResult & { host?: ParticipantRecord }> {
    const requestedKey = optionalText('key', input.key, LIMITS.meetingKey);
    const id = newId('mtg', now.getTime());
    const meeting: MeetingRecord = {
      id,
      accountId: account.id,
      key: requestedKey || randomBase32(10).toLowerCase(),
      code: randomBase32(8),
      hashKeyHash: this.links.hashKeyHash(id),
      title: '',
      description: '',
      language: '',
      hostExternalId: null,
      startsAt: null,
      endsAt: null,
      enabled: true,
      presetName: DEFAULT_PRESET,
      access: { ...OPEN_ACCESS },
      pinHash: null,
      maxParticipants: null,
      lobby: false,
      autoRecord: false,
      status: MEETING_STATUS.created,
      endReason: null,
      startedAt: null,
      endedAt: null,
      cancelledAt: null,
      createdVia: input.via,
      createdFrom: input.from ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const { patch, pin } = await this.validate(account, meeting, input, now);
    Object.assign(meeting, patch);
    if (!meeting.title) meeting.title = meeting.key;
    if (input.host) meeting.hostExternalId = input.host.externalId;

    const { maxMeetings } = this.accounts.quotas(account);
    let host: ParticipantRecord | undefined;
    // A generated key or code may (very rarely) collide: draw again. A chosen key may not.
    for (let attempt = 0; ; attempt++) {
      try {
        host = await this.store.transaction(async (tx) => {
          if (!(await tx.accounts.reserveMeeting(account.id, maxMeetings))) {
            throw new CoreError('quota_exceeded', `this account may have at most ${plural(maxMeetings, 'meeting')}`);
          }
          await tx.meetings.insert(meeting);
          if (!input.host) return undefined;
          return this.participants.insertNew(tx, account, meeting, { ...input.host, role: 'host' });
        });
        break;
      } catch (error) {
        if (!(error instanceof UniqueViolation) || attempt >= 5) throw error;
        if (error.constraint === 'meetings_account_key') {
          if (requestedKey) throw new CoreError('conflict', `is already used by another meeting: "${requestedKey}"`, { field: 'key' });
          meeting.key = randomBase32(10).toLowerCase();
        } else if (error.constraint === 'meetings_code') {
          meeting.code = randomBase32(8);
        } else {
          throw error;
        }
      }
    }
    return { meeting, host, pin };
  }

  async get(account: AccountRecord, id: string): Promise<MeetingRecord> {
    const meeting = await this.store.meetings.findById(account.id, lookupKey('meetingId', id));
    if (!meeting) throw notFound('meeting');
    return meeting;
  }

  /** Any account's meeting by id: for the operator, who sees every account. */
  async getForOperator(id: string): Promise<MeetingRecord> {
    const meeting = await this.store.meetings.get(lookupKey('meetingId', id));
    if (!meeting) throw notFound('meeting');
    return meeting;
  }

  /** Every meeting whose session runs now (in progress or host left), across accounts. */
  listLive(): Promise<MeetingRecord[]> {
    return this.store.meetings.listLive();
  }

  async getByKey(account: AccountRecord, key: string | undefined, field = 'key'): Promise<MeetingRecord> {
    const k = (key ?? '').trim();
    if (!k) throw invalid(field, 'is required');
    const meeting = await this.store.meetings.findByKey(account.id, lookupKey(field, k));
    if (!meeting) throw new CoreError('not_found', `matches no meeting: "${k.slice(0, LIMITS.meetingKey)}"`, { field });
    return meeting;
  }

  /** Public links: the short code and the Livebox hashKey. Not scoped to an account: the link is the credential. */
  async findByCode(code: string): Promise<MeetingRecord | undefined> {
    if (hasControlCharacters(code)) return undefined;
    return this.store.meetings.findByCode(code.toUpperCase());
  }

  findByHashKey(hashKey: string): Promise<MeetingRecord | undefined> {
    return this.store.meetings.findByHashKeyHash(this.links.tokenHash(hashKey));
  }

  list(account: AccountRecord, page: PageQuery): Promise<MeetingRecord[]> {
    return this.store.meetings.list(account.id, page);
  }

  listAll(account: AccountRecord): Promise<MeetingRecord[]> {
    return this.store.meetings.listAll(account.id);
  }

  async update(account: AccountRecord, meeting: MeetingRecord, input: MeetingInput, now = new Date()): Promise<MeetingResult> {
    const { patch, pin } = await this.validate(account, meeting, input, now);
    let updated = await this.save(meeting, { ...patch, updatedAt: now });
    // A standing room whose window ran out comes back when it gets a new window (or none).
    const rescheduled = patch.startsAt !== undefined || patch.endsAt !== undefined;
    if (rescheduled && meeting.status === MEETING_STATUS.finished && meeting.endReason === 'scheduled_end' && (!updated.endsAt || updated.endsAt.getTime() > now.getTime())) {
      updated = await this.apply(updated, { type: 'reset' });
    }
    if (patch.enabled === false && meeting.enabled) await this.end(updated, 'disabled');
    else this.events.emit('meeting.changed', { accountId: meeting.accountId, meetingId: meeting.id });
    return { meeting: await this.reload(updated), pin };
  }

  async setEnabled(account: AccountRecord, meeting: MeetingRecord, enabled: boolean, now = new Date()): Promise<MeetingRecord> {
    return (await this.update(account, meeting, { enabled }, now)).meeting;
  }

  async setSchedule(account: AccountRecord, meeting: MeetingRecord, startsAt: Date | null, endsAt: Date | null, now = new Date()): Promise<MeetingRecord> {
    return (await this.update(account, meeting, { startsAt, endsAt }, now)).meeting;
  }

  /**
   * Is the meeting switched on: enabled (Livebox changeConferenceMode, the native `enabled`) and
   * not cancelled (a cancellation is final)? Its window and the service decide when it opens
   * (see availability).
   */
  isSwitchedOn(meeting: MeetingRecord): boolean {
    return isSwitchedOn(meeting);
  }

  /** Cancelled meetings keep their record (statuses stay readable) but every link says so. */
  async cancel(meeting: MeetingRecord): Promise<MeetingRecord> {
    if (meeting.cancelledAt) return meeting;
    const now = new Date();
    const cancelled = await this.save(meeting, { cancelledAt: now, updatedAt: now });
    return this.end(cancelled, 'cancelled');
  }

  async remove(meeting: MeetingRecord): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.meetings.delete(meeting.id);
      await tx.accounts.releaseMeeting(meeting.accountId);
    });
    this.events.emit('meeting.closed', { accountId: meeting.accountId, meetingId: meeting.id, reason: 'removed' });
  }

  /** Ends the meeting for everyone (host's "end for all", the API's end). Final. */
  async endForAll(meeting: MeetingRecord): Promise<MeetingRecord> {
    if (meeting.cancelledAt) throw conflict('the meeting is cancelled');
    if (meeting.status === MEETING_STATUS.finished && meeting.endReason !== 'idle') throw conflict('the meeting has already ended');
    return this.end(meeting, 'host_ended');
  }

  /**
   * Back to a fresh state: any live session ends, statuses start over, settings stay. A
   * cancelled meeting stays as it is: cancelling (LiveMinutes cancelMeeting) is final.
   */
  async reset(meeting: MeetingRecord): Promise<MeetingRecord> {
    if (meeting.cancelledAt) return meeting;
    const wasLive = isLive(meeting.status);
    const now = new Date();
    const state = nextMeetingState(meeting, { type: 'reset' });
    await this.store.transaction(async (tx) => {
      await tx.meetings.update(meeting.id, { ...state, startedAt: null, endedAt: null, updatedAt: now });
      await tx.participants.updateAllOfMeeting(meeting.id, { status: PARTICIPANT_STATUS.invited, joinedAt: null, leftAt: null, updatedAt: now });
    });
    if (wasLive) this.events.emit('meeting.closed', { accountId: meeting.accountId, meetingId: meeting.id, reason: 'reset' });
    this.emitStatus(meeting, state.status);
    return { ...meeting, ...state, startedAt: null, endedAt: null, updatedAt: now };
  }

  /** Resets every meeting of the account (Livebox resetAllConferences); cancelled ones stay cancelled. Returns how many. */
  async resetAll(actor: Exclude<Actor, 'operator'>): Promise<number> {
    assertNotNativeApp(actor, 'reset conferences');
    const targets = (await this.store.meetings.listAll(actor.account.id)).filter((m) => !m.cancelledAt);
    for (const meeting of targets) await this.reset(meeting);
    return targets.length;
  }

  availability(meeting: MeetingRecord, now = new Date()): Availability {
    return meetingAvailability(meeting, now, this.isServiceRunning());
  }

  /** Ends meetings whose scheduled end (plus grace) has passed. Run periodically. */
  async sweep(now: Date, graceMs: number): Promise<number> {
    const overdue = await this.store.meetings.listOverdue(new Date(now.getTime() - graceMs));
    for (const meeting of overdue) await this.end(meeting, 'scheduled_end');
    return overdue.length;
  }

  /** Ends every live session (service stop). */
  async endAllLive(reason: EndReason): Promise<void> {
    for (const meeting of await this.store.meetings.listLive()) await this.end(meeting, reason);
  }

  /**
   * Applies one status-machine event and persists/announces what changed. The write is a
   * compare-and-set on the state the event was applied to: if presence, a schedule or an API
   * call changed the meeting meanwhile, the event is applied again to the fresh state. An event
   * that depends on the record (presence's `open`) is given as a function of it, so a retry
   * judges the fresh record.
   */
  async apply(meeting: MeetingRecord, event: MeetingEvent | ((current: MeetingRecord) => MeetingEvent), tx: Repositories = this.store): Promise<MeetingRecord> {
    let current = meeting;
    for (let attempt = 0; attempt < 10; attempt++) {
      const next = nextMeetingState(current, typeof event === 'function' ? event(current) : event);
      if (next.status === current.status && next.endReason === current.endReason) return current;
      const now = new Date();
      const patch: Partial<MeetingRecord> = { ...next, updatedAt: now };
      if (next.status === MEETING_STATUS.inProgress && !isLive(current.status)) patch.startedAt = now;
      if (next.status === MEETING_STATUS.finished) patch.endedAt = now;
      const after: MeetingRecord = { ...current, ...patch };
      // The status and its webhook event (outbox) commit together, or neither does.
      const wrote = await this.outbox.atomically(tx, async (t) => {
        if (!(await t.meetings.transition(current.id, current, patch))) return false;
        await this.outbox.meetingChanged(t, current, after);
        return true;
      });
      if (wrote) {
        this.emitStatus(current, next.status, next.endReason);
        return after;
      }
      const fresh = await tx.meetings.get(current.id);
      if (!fresh) throw notFound('meeting');
      current = fresh;
    }
    throw new CoreError('conflict', 'the meeting kept changing; try again');
  }

  private async end(meeting: MeetingRecord, reason: EndReason): Promise<MeetingRecord> {
    const ended = await this.apply(meeting, { type: 'ended', reason });
    // Also when the status says nobody joined yet: people may be seated whose media has not
    // connected (or waiting in a lobby). A room that does not exist ignores it.
    this.events.emit('meeting.closed', { accountId: meeting.accountId, meetingId: meeting.id, reason });
    return ended;
  }

  private emitStatus(before: MeetingRecord, status: MeetingRecord['status'], endReason: EndReason | null = null) {
    if (status === before.status && endReason === before.endReason) return;
    this.events.emit('meeting.status', { accountId: before.accountId, meetingId: before.id, status, previous: before.status, endReason });
  }

  private async save(meeting: MeetingRecord, patch: Partial<MeetingRecord>): Promise<MeetingRecord> {
    await this.store.meetings.update(meeting.id, patch);
    return { ...meeting, ...patch };
  }

  private async reload(meeting: MeetingRecord): Promise<MeetingRecord> {
    return (await this.store.meetings.get(meeting.id)) ?? meeting;
  }

  /** Checks an input against the meeting it would change; returns the fields to write. */
  private async validate(account: AccountRecord, current: MeetingRecord, input: MeetingInput, now: Date): Promise<{ patch: Partial<MeetingRecord>; pin?: string }> {
    const patch: Partial<MeetingRecord> = {};
    if (input.title !== undefined) patch.title = optionalText('title', input.title, LIMITS.title);
    if (input.description !== undefined) patch.description = freeText('description', input.description, LIMITS.description);
    if (input.language !== undefined) {
      patch.language = matching('language', optionalText('language', input.language, LIMITS.language), PATTERNS.language, 'a language tag such as en or pt-BR');
    }
    if (input.enabled === true && current.cancelledAt) throw conflict('the meeting is cancelled, which is final: it cannot be switched on again');
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    if (input.lobby !== undefined) patch.lobby = input.lobby;
    if (input.autoRecord !== undefined) patch.autoRecord = input.autoRecord;
    if (input.maxParticipants !== undefined) {
      const n = input.maxParticipants;
      if (n !== null && (!Number.isInteger(n) || n < 1 || n > LIMITS.maxParticipants)) {
        throw invalid('maxParticipants', `must be a whole number from 1 to ${LIMITS.maxParticipants}`);
      }
      patch.maxParticipants = n;
    }
    if (input.presetName !== undefined) {
      patch.presetName = (await this.presets.requireByName(account.id, requiredText('presetName', input.presetName, LIMITS.presetName), 'presetName')).name;
    }
    if (input.startsAt !== undefined) patch.startsAt = input.startsAt;
    if (input.endsAt !== undefined) patch.endsAt = input.endsAt;
    const rescheduled = input.startsAt !== undefined || input.endsAt !== undefined;
    checkWindow(
      patch.startsAt !== undefined ? patch.startsAt : current.startsAt,
      patch.endsAt !== undefined ? patch.endsAt : current.endsAt,
      rescheduled ? now : undefined,
    );

    if (input.access) {
      const access = { ...current.access, ...input.access };
      for (const field of ['signupPreset', 'guestPreset'] as const) {
        const name = access[field];
        if (name !== null) access[field] = (await this.presets.requireByName(account.id, requiredText(field, name, LIMITS.presetName), field)).name;
      }
      patch.access = access;
    }
    if (input.withoutPersonalLinks && !hasWayIn(patch.access ?? current.access)) {
      throw invalid('authentication', 'is on, so at least one of {usernamePassword}, {pinEntry}, {signup} or {guests} must be enabled: nobody could enter otherwise');
    }
    let pin: string | undefined;
    if (input.pin !== undefined) pin = checkPin(input.pin.trim());
    const pinOn = (patch.access ?? current.access).pin;
    if (pinOn && !pin && !current.pinHash) pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (pin) patch.pinHash = await hash(pin);
    return { patch, pin };
  }
}
