import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../core/index.js';
import type { Permissions } from '../protocol/messages.js';
import type { Lobby } from './lobby.js';
import type { MediaBridge } from './media-bridge.js';
import type { Rooms } from './rooms.js';
import type { LiveRoom, Session } from './session.js';

/**
 * Settings changed while rooms run (a meeting's preset or lobby, an edit to a preset): the core
 * recomputes what each person may do; this applies it to their seat, their media and the lobby.
 */
export class SettingsRelay {
  constructor(
    private readonly core: Core,
    private readonly rooms: Rooms,
    private readonly lobby: Lobby,
    private readonly media: MediaBridge,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The rooms for which `affects` is true re-read their settings, one change after another. */
  changed(affects: (room: LiveRoom) => boolean): void {
    for (const room of this.rooms.all()) {
      if (!affects(room)) continue;
      room.refreshing = room.refreshing
        .then(() => this.refresh(room))
        .then(() => this.lobby.letInWhoMay(room))
        .catch((error: unknown) => {
          this.log.warn({ err: error, meetingId: room.meetingId }, 'signaling: could not apply changed settings');
        });
    }
  }

  private async refresh(room: LiveRoom): Promise<void> {
    if (room.closed) return;
    const meeting = await this.core.room.meetingNow(room.meetingId);
    if (!meeting) return;
    for (const session of [...room.sessions.values(), ...room.lobby.values()]) {
      const permissions = await this.core.room.permissionsNow(meeting, session.id);
      if (!permissions || session.ended) continue;
      await this.apply(room, session, permissions);
    }
  }

  private async apply(room: LiveRoom, session: Session, permissions: Permissions): Promise<void> {
    const before = session.permissions;
    if ((Object.keys(permissions) as (keyof Permissions)[]).every((k) => permissions[k] === before[k])) return;
    session.permissions = permissions;
    const { info } = session;
    const flags = `${info.audioMuted}${info.videoMuted}${info.screenSharing}`;
    Object.assign(info, this.core.room.restrictMedia(info, permissions));
    if (room.lobby.get(session.id) === session) return; // the welcome will carry them
    await this.media.apply(session);
    session.send({ type: 'permissions', permissions });
    if (flags !== `${info.audioMuted}${info.videoMuted}${info.screenSharing}`) room.broadcast({ type: 'participantUpdated', participant: info });
    if (permissions.moderate && !before.moderate && room.lobby.size > 0) room.lobbyChanged();
  }
}
