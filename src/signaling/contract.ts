/**
 * Compile-time ties between the wire contract (src/protocol, built into the browser, so it cannot
 * import the core) and the core's own types. If either side changes a shape, `npm run typecheck`
 * fails here instead of a page misreading a message. Nothing here runs.
 */
import type { CoreErrorCode, JoinWayForm as CoreJoinWayForm, LinkRef, LinkState, MEDIA_RESTART_LIMIT, WaysIn as CoreWaysIn } from '../core/index.js';
import type { PresetPermissions, Role as CoreRole } from '../store/index.js';
import type { MediaErrorCode } from '../media/index.js';
import type { JoinWayForm, MEDIA_RESET_LIMIT, Permissions, Role, RoomLink, RoomState, SocketErrorCode, WaysIn } from '../protocol/messages.js';

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
} = {
  role: true, link: true, waysIn: true, permissions: true, joinForm: true, linkStates: true, coreErrors: true, mediaErrors: true, restartLimit: true,
};
