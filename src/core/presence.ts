import type { MeetingRecord, ParticipantRecord, Store } from '../store/index.js';
import { notFound } from './errors.js';
import type { MeetingService } from './meetings.js';
import type { ParticipantService } from './participants.js';
import { isLive, nextMeetingState, type MeetingEvent } from './status.js';

/** What the core may ask of the rooms this node runs (signaling registers it). */
export interface LocalRooms {
  /** Someone is in this meeting's room on this node: seated (media connected or not) or in its lobby. */
  occupied(meetingId: string): boolean;
  /** How many people hold a seat in this meeting's room on this node now. */
  seated(meetingId: string): number;
  /** This person holds a seat in the meeting's room on this node now (or waits in its lobby). */
  holds(meetingId: string, participantId: string): boolean;
}

/** The settings key under which a graceful restart leaves the time until which its people may come back. */
const RESTART_KEY = 'presence.restart_until';

/**
 * Presence drives the status machines: the media/signaling layer reports who connected and who
 * left, and this is the only place those reports become statuses. It also applies the idle rule
 * (an empty meeting ends) to meetings this process finds live without anyone in them at start.
 */
/** Picks, among meeting ids, those a rule applies to (a port answered by the Coordination). */
type MeetingFilter = (meetingIds: readonly string[]) => Promise<readonly string[]>;

export class PresenceService {
  private rooms: LocalRooms = { occupied: () => false, seated: () => 0, holds: () => false };
  /** Meetings found live at start with nobody here: they end as idle unless someone comes. */
  private readonly orphanTimers = new Map<string, NodeJS.Timeout>();
  /** After a graceful restart: when those who did not come back are settled. */
  private restartTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly meetings: MeetingService,
    private readonly participants: ParticipantService,
    private readonly onError: (error: unknown, where: string) => void = () => {},
  ) {}

  /** Signaling tells the core who is in its rooms; returns a function that detaches it. */
  attachRooms(rooms: LocalRooms): () => void {
    this.rooms = rooms;
    return () => {
      if (this.rooms === rooms) this.rooms = { occupied: () => false, seated: () => 0, holds: () => false };
    };
  }

  async connected(meetingId: string, participantId: string): Promise<{ meeting: MeetingRecord; participant: ParticipantRecord }> {
    const { meeting, participant } = await this.load(meetingId, participantId);
    this.clearOrphan(meetingId);
    const event = (m: MeetingRecord): MeetingEvent => ({ type: 'connected', isHost: participant.role === 'host', open: this.meetings.availability(m).state === 'open' });
    // A connection reported after the meeting closed (ended for all, cancelled, service
    // stopped…) is not recorded: nobody is in that meeting any more.
    if (!isLive(nextMeetingState(meeting, event(meeting)).status)) return { meeting, participant };
    const now = await this.participants.apply(participant, 'connected');
    const updated = await this.meetings.apply(meeting, event);
    return { meeting: updated, participant: now };
  }

  async left(meetingId: string, participantId: string): Promise<{ meeting: MeetingRecord; participant: ParticipantRecord }> {
    const { meeting, participant } = await this.load(meetingId, participantId);
    const now = await this.participants.apply(participant, 'left');
    const hostsConnected = await this.store.participants.countConnected(meetingId, 'host');
    const updated = await this.meetings.apply(meeting, { type: 'left', isHost: participant.role === 'host', hostsConnected });
    return { meeting: updated, participant: now };
  }

  /** People seated in the meeting's room on this node now (the capacity check of a join). */
  seatedHere(meetingId: string): number {
    return this.rooms.seated(meetingId);
  }

  /**
   * Nobody has been in the room for the idle period: the session is over. Not while anyone is
   * in this node's room (someone who just took a seat has no status 10 yet) or recorded as
   * connected.
   */
  async idle(meetingId: string): Promise<MeetingRecord | undefined> {
    this.clearOrphan(meetingId);
    const meeting = await this.store.meetings.get(meetingId);
    if (!meeting) return undefined;
    if (this.rooms.occupied(meetingId)) return meeting;
    if ((await this.store.participants.countConnected(meetingId)) > 0) return meeting;
    if (this.rooms.occupied(meetingId)) return meeting; // a seat taken while we counted
    return this.meetings.apply(meeting, { type: 'ended', reason: 'idle' });
  }

  /**
   * This node is restarting on purpose (SIGTERM): the people in its rooms were handed tokens to
   * take their seats again once it is back, until `until`. Their statuses stay as they are;
   * the next start settles only those who do not come back by then.
   */
  async markRestart(until: Date): Promise<void> {
    await this.store.settings.set(RESTART_KEY, until.toISOString());
  }

  /**
   * At start: statuses left behind by a previous process. After a crash nobody is connected to a
   * process that just started, so every participant still at 10 has left (11; a host's leaving
   * makes the meeting 11). After a graceful restart (see markRestart) they may still come back:
   * those not back by then are settled the same way. Every live meeting nobody returns to ends
   * as idle after `idleMs` (or the restart's window, if longer) unless someone joins it before
   * (then its room's own idle timer takes over).
   *
   * Ownership: a meeting's live session belongs to one node. With one node (today) that node
   * owns every meeting, so it reconciles them all. With several nodes sharing the database, a
   * node must reconcile only the meetings placed on it (and the placement must say so), and the
   * meetings of a node that does not come back are reconciled by the node that takes them over:
   * a node that reconciled everything would throw out the people of every other node.
   * `unheld` says which live meetings are this node's to settle (Coordination.unheld: with one
   * node, all of them).
   */
  async reconcile(idleMs: number, unheld: MeetingFilter = async (ids) => ids, now = new Date()): Promise<void> {
    const until = Date.parse((await this.store.settings.get(RESTART_KEY)) ?? '');
    const graceMs = Number.isFinite(until) ? Math.max(0, until - now.getTime()) : 0;
    if (Number.isFinite(until)) await this.store.settings.set(RESTART_KEY, '');
    const mine = new Set(await unheld((await this.store.meetings.listLive()).map((m) => m.id)));
    const settle = async () => {
      for (const participant of await this.store.participants.listConnected()) {
        if (!mine.has(participant.meetingId)) continue; // another live node runs it
        if (this.rooms.holds(participant.meetingId, participant.id)) continue; // back in their seat
        try {
          await this.left(participant.meetingId, participant.id);
        } catch (error) {
          this.onError(error, `start-up reconcile of participant ${participant.id}`);
        }
      }
    };
    if (graceMs === 0) await settle();
    else {
      this.restartTimer = setTimeout(() => void settle().catch((error: unknown) => this.onError(error, 'settling after a restart')), graceMs);
      this.restartTimer.unref();
    }
    for (const id of mine) this.endIfStillEmpty(id, Math.max(idleMs, graceMs));
  }

  /**
   * A node died (its heartbeat stopped): the people recorded in its meetings have left (10 → 11)
   * unless they already took a seat here, and each such meeting ends as idle after `idleMs`
   * unless someone joins it again — on whichever live node it is placed next.
   */
  async settleOrphans(orphaned: MeetingFilter, idleMs: number, unheld: MeetingFilter = async (ids) => ids): Promise<void> {
    const live = await this.store.meetings.listLive();
    if (live.length === 0) return;
    const dead = new Set(await orphaned(live.map((m) => m.id)));
    if (dead.size === 0) return;
    const connected = await this.store.participants.listConnected();
    for (const meetingId of dead) {
      // Its pages may have joined again meanwhile (they ask for a live node as soon as theirs
      // stops answering): once the meeting runs on another live node, its statuses are that
      // node's, and the people seated there are not to be marked as gone.
      if ((await unheld([meetingId])).length === 0) {
        dead.delete(meetingId);
        continue;
      }
      for (const participant of connected) {
        if (participant.meetingId !== meetingId || this.rooms.holds(meetingId, participant.id)) continue;
        try {
          await this.left(meetingId, participant.id);
        } catch (error) {
          this.onError(error, `settling participant ${participant.id} of a dead node`);
        }
      }
    }
    for (const id of dead) if (!this.rooms.occupied(id)) this.endIfStillEmpty(id, idleMs);
  }

  /** Stops the timers of `reconcile`. */
  stop(): void {
    for (const timer of this.orphanTimers.values()) clearTimeout(timer);
    this.orphanTimers.clear();
    if (this.restartTimer) clearTimeout(this.restartTimer);
  }

  private endIfStillEmpty(meetingId: string, idleMs: number): void {
    this.clearOrphan(meetingId);
    const timer = setTimeout(() => {
      this.orphanTimers.delete(meetingId);
      this.idle(meetingId).catch((error: unknown) => this.onError(error, `idle end of meeting ${meetingId}`));
    }, idleMs);
    timer.unref();
    this.orphanTimers.set(meetingId, timer);
  }

  private clearOrphan(meetingId: string): void {
    const timer = this.orphanTimers.get(meetingId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.orphanTimers.delete(meetingId);
  }

  private async load(meetingId: string, participantId: string) {
    const meeting = await this.store.meetings.get(meetingId);
    if (!meeting) throw notFound('meeting');
    const participant = await this.store.participants.findById(meetingId, participantId);
    if (!participant) throw notFound('participant');
    return { meeting, participant };
  }
}
