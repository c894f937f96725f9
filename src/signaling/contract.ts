/**
 * Compile-time ties between the wire contract (src/protocol, built into the browser, so it cannot
 * import the core) and the core's own types. If either side changes a shape, `npm run typecheck`
 * fails here instead of a page misreading a message. Nothing here runs.
 */
import type { CoreErrorCode, ICE_RESTART_LIMIT as CORE_ICE_RESTART_LIMIT, JoinWayForm as CoreJoinWayForm, LinkRef, LinkState, MEDIA_RESTART_LIMIT, TransportHealth, WaysIn as CoreWaysIn } from '../core/index.js';
import type { PresetPermissions, Role as CoreRole } from '../store/index.js';
import type { MediaErrorCode, TransportState } from '../media/index.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { ICE_RESTART_LIMIT, JoinWayForm, MEDIA_RESET_LIMIT, Permissions, Role, RoomLink, RoomState, SocketErrorCode, WaysIn } from '../protocol/messages.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Within<A, B> = [A] extends [B] ? true : false;

// Each entry must be `true`; a `false` is a type error on that line.
export const CONTRACT_HOLDS: {
  role: Same<Role, CoreRole>;
  link: Same<RoomLink, LinkRef>;
  waysIn: Same<WaysIn, CoreWaysIn>;
  permissions: Same<Permissions, PresetPermissions>;
  /** The pre-join form the core describes is the one the page draws. */
  joinForm: Same<JoinWayForm, CoreJoinWayForm>;
  /** Every state the core gives a link (but the room itself) is one the page can show. */
  linkStates: Within<Exclude<LinkState, 'room'>, RoomState>;
  /** A refusal of the core or of media reaches the page with a code it knows. */
  coreErrors: Within<CoreErrorCode, SocketErrorCode>;
  mediaErrors: Within<MediaErrorCode, SocketErrorCode>;
  /** The page gives up restarting its media where the core stops allowing it. */
  restartLimit: Same<typeof MEDIA_RESET_LIMIT, typeof MEDIA_RESTART_LIMIT>;
  iceRestartLimit: Same<typeof ICE_RESTART_LIMIT, typeof CORE_ICE_RESTART_LIMIT>;
  /** What media reports of a transport is what the core judges and what the page is told. */
  transportHealth: Same<TransportState, TransportHealth>;
  transportMessage: Same<Extract<ServerMessage, { type: 'mediaTransport' }>['state'], TransportHealth>;
} = {
  role: true, link: true, waysIn: true, permissions: true, joinForm: true, linkStates: true, coreErrors: true, mediaErrors: true, restartLimit: true,
  iceRestartLimit: true, transportHealth: true, transportMessage: true,
};
