import type { AccountRecord, MeetingRecord, PageQuery, ParticipantRecord, Repositories, Role, Store } from '../store/index.js';
import { UniqueViolation } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { CoreError, conflict, invalid, notFound } from './errors.js';
import type { CoreEventBus } from './events.js';
import type { WebhookOutbox } from './webhooks/index.js';
import { email, LIMITS, lookupKey, optionalText, plural, requiredText } from './limits.js';
import type { Links } from './links.js';
import type { PresetService } from './presets.js';
import { newId } from './secrets.js';
import { nextParticipantStatus, PARTICIPANT_STATUS, type ParticipantEvent } from './status.js';

export interface ParticipantInput {
  /** The integrator's id for the person (LiveMinutes puid). */
  externalId?: string | null;
  name?: string;
  email?: string;
  role?: Role;
  presetName?: string | null;
}

export const ROLES: readonly Role[] = ['host', 'moderator', 'participant', 'viewer'];

export class ParticipantService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly presets: PresetService,
    private readonly links: Links,
    private readonly events: CoreEventBus,
    private readonly outbox: WebhookOutbox,
  ) {}

  /**
   * Invites someone. Inviting the same external id again returns their existing invitation
   * (updating name and e-mail when given) and brings back a cancelled one with a new link.
   */
  async add(account: AccountRecord, meeting: MeetingRecord, input: ParticipantInput): Promise<{ participant: ParticipantRecord; created: boolean }> {
    if (meeting.cancelledAt) throw conflict('the meeting is cancelled');
    const externalId = input.externalId === null || input.externalId === undefined ? null : requiredText('externalId', input.externalId, LIMITS.externalId);
    if (externalId !== null) {
      const existing = await this.store.participants.findByExternalId(meeting.id, externalId);
      if (existing) return { participant: await this.refresh(existing, input), created: false };
    }
    try {
      return { participant: await this.store.transaction((tx) => this.insertNew(tx, account, meeting, { ...input, externalId })), created: true };
    } catch (error) {
      // Two invitations of the same person at once: the second finds the first.
      if (error instanceof UniqueViolation && externalId !== null) {
        const existing = await this.store.participants.findByExternalId(meeting.id, externalId);
        if (existing) return { participant: await this.refresh(existing, input), created: false };
      }
      throw error;
    }
  }

  /** Inserts a new participant inside the caller's transaction, within the account's user quota. */
  async insertNew(tx: Repositories, account: AccountRecord, meeting: MeetingRecord, input: ParticipantInput): Promise<ParticipantRecord> {
    const externalId = input.externalId === null || input.externalId === undefined ? null : requiredText('externalId', input.externalId, LIMITS.externalId);
    const role = input.role ?? 'participant';
    if (!ROLES.includes(role)) throw invalid('role', `must be one of ${ROLES.join(', ')}`);
    const presetName = input.presetName ? (await this.presets.requireByName(account.id, input.presetName, 'presetName', tx)).name : null;
    if (externalId !== null && !(await tx.participants.externalIdKnown(account.id, externalId))) {
      const { maxUsers } = this.accounts.quotas(account);
      if ((await tx.participants.countDistinctExternalIds(account.id)) >= maxUsers) {
        throw new CoreError('quota_exceeded', `this account may have at most ${plural(maxUsers, 'user')}`);
      }
    }
    const now = new Date();
    const participant: ParticipantRecord = {
      id: newId('par', now.getTime()),
      meetingId: meeting.id,
      accountId: account.id,
      externalId,
      name: optionalText('name', input.name, LIMITS.personName) || externalId || '',
      email: email('email', input.email),
      role,
      presetName,
      status: PARTICIPANT_STATUS.invited,
      tokenHash: '',
      tokenVersion: 1,
      cancelledAt: null,
      joinedAt: null,
      leftAt: null,
      createdAt: now,
      updatedAt: now,
    };
    participant.tokenHash = this.links.participantTokenHash(participant);
    await tx.participants.insert(participant);
    return participant;
  }

  private async refresh(existing: ParticipantRecord, input: ParticipantInput): Promise<ParticipantRecord> {
    const patch: Partial<ParticipantRecord> = {};
    if (input.name !== undefined && input.name.trim() !== '') patch.name = optionalText('name', input.name, LIMITS.personName);
    if (input.email !== undefined && input.email.trim() !== '') patch.email = email('email', input.email);
    if (existing.cancelledAt) {
      // A new link: the cancelled one must stay dead.
      patch.cancelledAt = null;
      patch.status = PARTICIPANT_STATUS.invited;
      patch.tokenVersion = existing.tokenVersion + 1;
      patch.tokenHash = this.links.participantTokenHash({ id: existing.id, tokenVersion: existing.tokenVersion + 1 });
    }
    if (Object.keys(patch).length === 0) return existing;
    patch.updatedAt = new Date();
    await this.store.participants.update(existing.id, patch);
    return { ...existing, ...patch };
  }

  async get(meeting: MeetingRecord, id: string): Promise<ParticipantRecord> {
    const participant = await this.store.participants.findById(meeting.id, lookupKey('participantId', id));
    if (!participant) throw notFound('participant');
    return participant;
  }

  async getByExternalId(meeting: MeetingRecord, externalId: string | undefined, field = 'externalId'): Promise<ParticipantRecord> {
    const id = requiredText(field, externalId, LIMITS.externalId);
    const participant = await this.store.participants.findByExternalId(meeting.id, id);
    if (!participant) throw new CoreError('not_found', `matches no participant of the meeting: "${id}"`, { field });
    return participant;
  }

  /** A participant whose invitation stands: a cancelled one has no link and no status until invited again. */
  async getInvited(meeting: MeetingRecord, externalId: string | undefined, field = 'externalId'): Promise<ParticipantRecord> {
    const participant = await this.getByExternalId(meeting, externalId, field);
    if (participant.cancelledAt) {
      throw new CoreError('conflict', `names a cancelled invitation: "${participant.externalId ?? ''}"; inviting them again gives a new link`, { field });
    }
    return participant;
  }

  list(meeting: MeetingRecord, page: PageQuery): Promise<ParticipantRecord[]> {
    return this.store.participants.list(meeting.id, page);
  }

  /** The holder of a personal link, with their meeting. */
  async findByToken(token: string): Promise<{ participant: ParticipantRecord; meeting: MeetingRecord } | undefined> {
    const participant = await this.store.participants.findByTokenHash(this.links.tokenHash(token));
    if (!participant) return undefined;
    const meeting = await this.store.meetings.get(participant.meetingId);
    return meeting && { participant, meeting };
  }

  /** Withdraws an invitation: the personal link stops working and its holder leaves the room. */
  async cancel(participant: ParticipantRecord): Promise<ParticipantRecord> {
    if (participant.role === 'host') throw conflict('the host cannot be cancelled; cancel the meeting instead');
    if (participant.cancelledAt) return participant;
    const now = new Date();
    await this.store.participants.update(participant.id, { cancelledAt: now, updatedAt: now });
    this.events.emit('participant.revoked', { accountId: participant.accountId, meetingId: participant.meetingId, participantId: participant.id });
    return { ...participant, cancelledAt: now, updatedAt: now };
  }

  async delete(participant: ParticipantRecord): Promise<void> {
    await this.store.participants.delete(participant.id);
    this.events.emit('participant.revoked', { accountId: participant.accountId, meetingId: participant.meetingId, participantId: participant.id });
  }

  /** Accept or decline an invitation (personal link, before joining). */
  async respond(participant: ParticipantRecord, answer: 'accepted' | 'declined'): Promise<ParticipantRecord> {
    if (participant.cancelledAt) throw conflict('this invitation was cancelled');
    const after = await this.apply(participant, answer);
    // An answer that leaves the status as it was (accepting the default "accept") is still news.
    if (after.status === participant.status) await this.outbox.atomically(this.store, (tx) => this.outbox.participantChanged(tx, participant, after, answer));
    return after;
  }

  /** Applies one status-machine event and persists/announces the change (compare-and-set, as for meetings). */
  async apply(participant: ParticipantRecord, event: ParticipantEvent, tx: Repositories = this.store): Promise<ParticipantRecord> {
    let current = participant;
    for (let attempt = 0; attempt < 10; attempt++) {
      const status = nextParticipantStatus(current.status, event);
      if (status === null) throw conflict(event === 'declined' || event === 'accepted' ? 'the participant has already joined the meeting' : `cannot apply ${event}`);
      if (status === current.status) return current;
      const now = new Date();
      const patch: Partial<ParticipantRecord> = { status, updatedAt: now };
      if (event === 'connected') patch.joinedAt = current.joinedAt ?? now;
      if (event === 'left') patch.leftAt = now;
      const after: ParticipantRecord = { ...current, ...patch };
      // The status and its webhook event (outbox) commit together, or neither does.
      const wrote = await this.outbox.atomically(tx, async (t) => {
        if (!(await t.participants.transition(current.id, current.status, patch))) return false;
        await this.outbox.participantChanged(t, current, after, event);
        return true;
      });
      if (wrote) {
        this.events.emit('participant.status', {
          accountId: current.accountId, meetingId: current.meetingId, participantId: current.id, status, previous: current.status,
        });
        return after;
      }
      const fresh = await tx.participants.findById(current.meetingId, current.id);
      if (!fresh) throw notFound('participant');
      current = fresh;
    }
    throw new CoreError('conflict', 'the participant kept changing; try again');
  }
}
