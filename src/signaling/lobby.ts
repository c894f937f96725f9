import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Core } from '../core/index.js';
import type { ClientMessage } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse.js';
import { fullExplanation } from '../protocol/states.js';
import { JOINED_ELSEWHERE, refuse, type Rooms } from './rooms.js';
import type { LiveRoom, Session } from './session.js';

/**
 * The lobby of a live room: people waiting to be let in, with their socket open, until a
 * moderator decides or the meeting's lobby is turned off. Who waits is the core's rule.
 */
export class Lobby {
  constructor(private readonly core: Core, private readonly rooms: Rooms, private readonly log: FastifyBaseLogger) {}

  /** Into the lobby: the socket stays open, nothing else happens until a moderator decides. */
  wait(room: LiveRoom, session: Session, socket: WebSocket): void {
    const before = room.lobby.get(session.id);
    if (before?.socket) refuse(before.socket, JOINED_ELSEWHERE.state, JOINED_ELSEWHERE.message);
    room.lobby.set(session.id, session);
    session.socket = socket;
    const onMessage = (data: Buffer) => {
      session.lastSeen = Date.now();
      let message: ClientMessage;
      try {
        message = parseClientMessage(data.toString());
      } catch {
        return;
      }
      if (message.type === 'ping') session.send({ type: 'pong', t: message.t });
      if (message.type === 'leave') socket.close(1000, 'left the lobby');
    };
    const onClose = () => {
      if (room.lobby.get(session.id) !== session) return;
      room.lobby.delete(session.id);
      room.lobbyChanged();
      if (room.empty && !room.closed) this.rooms.startIdleTimer(room);
    };
    socket.on('message', onMessage);
    socket.on('close', onClose);
    session.leaveLobby = () => {
      socket.off('message', onMessage);
      socket.off('close', onClose);
    };
    session.send({ type: 'lobby' });
    room.lobbyChanged();
  }

  /** A moderator's answer, from the room, to someone in the lobby. */
  async answer(room: LiveRoom, moderator: Session, participantId: string, admit: boolean): Promise<void> {
    const waiting = room.lobby.get(participantId);
    this.core.room.assertMayModerate(moderator.permissions, moderator.id, { id: participantId, present: waiting?.socket !== undefined, where: 'lobby' });
    if (!waiting || (await this.decide(room, waiting, admit, moderator.info.name)) === 'done') return;
    const capacity = (await this.core.room.meetingNow(room.meetingId))?.maxParticipants;
    moderator.send({
      type: 'error', code: 'full',
      message: `The meeting is full (${capacity} people): ${waiting.info.name} can be let in once someone leaves.`,
    });
  }

  /**
   * Lets someone waiting in (`full`, and they keep waiting, when no seat is free) or turns them
   * away, on the word of `by`.
   */
  async decide(room: LiveRoom, waiting: Session, admit: boolean, by: string): Promise<'done' | 'full'> {
    const capacity = admit ? (await this.core.room.meetingNow(room.meetingId))?.maxParticipants ?? null : null;
    const socket = waiting.socket;
    if (room.lobby.get(waiting.id) !== waiting || !socket) return 'done'; // gone meanwhile
    // Checked here and again as the seat is taken (nothing can come between those two).
    if (admit && !room.sessions.has(waiting.id) && !this.core.room.hasFreeSeat(capacity, room.sessions.size)) return 'full';
    room.lobby.delete(waiting.id);
    waiting.leaveLobby?.();
    room.lobbyChanged();
    if (admit) return (await this.rooms.seat(room, waiting, socket, capacity)) ? 'done' : 'full';
    waiting.send({ type: 'closed', state: 'declined', message: `${by} did not let you in.` });
    socket.close(1000, 'declined');
    return 'done';
  }

  /**
   * Lets in whoever no longer has to wait (the core says who: everyone once the meeting's lobby is
   * turned off, and someone whose new rights let them moderate), in the order they came, as long
   * as there are seats; the others are told the meeting is full.
   */
  async letInWhoMay(room: LiveRoom): Promise<void> {
    if (room.closed || room.lobby.size === 0) return;
    const meeting = await this.core.room.meetingNow(room.meetingId);
    if (!meeting) return;
    const capacity = meeting.maxParticipants;
    let changed = false;
    for (const waiting of [...room.lobby.values()]) {
      if (!this.core.room.mayLeaveLobby(meeting, waiting.permissions)) continue;
      const socket = waiting.socket;
      if (room.closed || room.lobby.get(waiting.id) !== waiting || !socket) continue;
      room.lobby.delete(waiting.id);
      waiting.leaveLobby?.();
      changed = true;
      try {
        if (!(await this.rooms.seat(room, waiting, socket, capacity))) refuse(socket, 'full', fullExplanation(capacity));
      } catch (error) {
        // Seated, but their media did not start: the page restarts it (or they rejoin).
        this.log.warn({ err: error, meetingId: room.meetingId }, 'signaling: could not start the media of someone let in');
      }
    }
    if (changed) room.lobbyChanged();
    this.rooms.idleIfEmpty(room);
  }
}
