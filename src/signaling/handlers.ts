import { ICE_RESTART_LIMIT, MEDIA_RESTART_LIMIT, type Core } from '../core/index.js';
import { randomBase62 } from '../core/secrets.js';
import type { ClientMessage } from '../protocol/messages.js';
import type { Lobby } from './lobby.js';
import type { MediaBridge } from './media-bridge.js';
import type { Moderation } from './moderation.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';

/**
 * What a seated person's messages do. The core says whether they may (it throws a CoreError,
 * which reaches the page as an `error`); this carries the result to the room and its media.
 */
export class MessageHandlers {
  constructor(
    private readonly core: Core,
    private readonly rooms: Rooms,
    private readonly lobby: Lobby,
    private readonly media: MediaBridge,
    private readonly moderation: Moderation,
  ) {}

  async handle(session: Session, m: ClientMessage): Promise<void> {
    const room = this.rooms.get(session.meetingId);
    if (!room || session.ended) return;
    const rules = this.core.room;
    switch (m.type) {
      case 'ping':
        return session.send({ type: 'pong', t: m.t });
      case 'publish': {
        const peer = await this.media.peerOf(room, session);
        const answer = await peer.publish(m.sdp, m.sources);
        return session.send({ type: 'publishAnswer', sdp: answer.sdp });
      }
      case 'subscriberAnswer':
        return (await this.media.peerOf(room, session)).subscriberAnswer(m.sdp);
      case 'ice':
        return (await this.media.peerOf(room, session)).addIceCandidate(m.transport, m.candidate);
      case 'resetMedia':
        if (!session.restarts.take(Date.now())) {
          return session.send({ type: 'error', code: 'rate_limited', message: `media may be restarted at most ${MEDIA_RESTART_LIMIT.count} times a minute` });
        }
        return this.media.restart(room, session);
      case 'restartIce':
        if (!session.iceRestarts.take(Date.now())) {
          return session.send({ type: 'error', code: 'rate_limited', message: `ICE may be restarted at most ${ICE_RESTART_LIMIT.count} times a minute` });
        }
        return this.media.restartIce(room, session);
      case 'videoSizes':
        session.videoSizes = m.sizes.map((s) => ({ peerId: s.participantId, source: s.source, width: s.width, height: s.height }));
        return this.media.sendVideoSizes(session);
      case 'setMuted':
        if (!m.muted) {
          // An unmute already on its way when a moderator's mute was sent: the mute wins. The
          // request is said again, in case the page never got it (its socket dropped meanwhile).
          if (!rules.ownUnmuteStands(m.seen, session.muteRequests)) {
            if (session.mutedByHost[m.source]) session.send({ type: 'muteRequested', by: session.lastMutedBy, source: m.source, request: session.muteRequests });
            return;
          }
          session.mutedByHost[m.source] = false;
        }
        Object.assign(session.info, rules.setOwnMedia(session.info, m.source, m.muted, session.permissions));
        room.broadcast({ type: 'participantUpdated', participant: session.info });
        return this.media.apply(session);
      case 'raiseHand':
        session.info.handRaised = m.raised;
        return room.broadcast({ type: 'participantUpdated', participant: session.info });
      case 'chat': {
        rules.assertMayChat(session.permissions);
        const message = { id: randomBase62(12), from: session.id, name: session.info.name, text: m.text, at: new Date().toISOString() };
        room.addChat(message);
        return room.broadcast({ type: 'chat', message });
      }
      case 'moderate': {
        const target = room.sessions.get(m.participantId);
        rules.assertMayModerate(session.permissions, session.id, { id: m.participantId, present: target !== undefined, where: 'room' });
        if (!target) return;
        const by = { name: session.info.name, who: { kind: 'participant' as const, participantId: session.id, name: session.info.name } };
        if (m.action === 'remove') return this.moderation.remove(target, `${session.info.name} removed you from the meeting.`, by);
        return this.moderation.mute(room, target, ['microphone'], by);
      }
      case 'admit':
      case 'decline':
        return this.lobby.answer(room, session, m.participantId, m.type === 'admit');
      case 'recording': {
        const actor = { kind: 'participant' as const, participantId: session.id, permissions: session.permissions };
        // The core's recording.state event tells the room.
        if (m.action === 'start') await this.core.recordings.startById(session.meetingId, actor);
        else await this.core.recordings.stopById(session.meetingId, actor);
        return;
      }
      case 'endForAll':
        return rules.endForAll(session.meetingId, session.permissions); // the core's meeting.closed event closes the room
      case 'leave':
        return this.rooms.endSession(session, { state: 'ended', message: 'You left the meeting.' });
    }
  }
}
