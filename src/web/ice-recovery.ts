import type { Timers } from './timers.ts';

/**
 * A transport 'disconnected' this long restarts ICE. The browser has already waited for ~5–6 s
 * of silence before saying so (Chromium, seen in test/browser/network-drop.test.ts).
 */
const DISCONNECTED_GRACE_MS = 1_000;
/** The network came back ('online', a connection change): the old path may resume by itself this fast. */
const NETWORK_GRACE_MS = 1_000;
/** An ICE restart has this long to bring every transport back; then another one, then a rebuild. */
const ICE_RESTART_WAIT_MS = 6_000;
/** After a socket resumes while media had stopped: the old path may still come back this fast. */
const STALL_AFTER_RESUME_MS = 500;
/** ICE restarts in a row before the whole media session is rebuilt (MediaSession.restart). */
const ICE_RESTARTS_BEFORE_REBUILD = 2;

export interface IceRecoveryHooks {
  /** Every transport is connected, as we and the server see it (`ours`: as we do, unless the server gave up). */
  healthy(view?: 'both' | 'ours'): boolean;
  /** The browser believes it has a network (navigator.onLine). */
  online(): boolean;
  /** New ICE credentials on both transports, same seat, same media. */
  restartIce(why: string): void;
  /** The fallback: new transports and a new media session on the server (MediaSession.restart). */
  rebuild(): void;
  /** Checks that the signaling socket still works (it may have died with the network). */
  probeSocket(): void;
}

/**
 * Bringing a seat's transports back after a network drop or change: an ICE restart on the same
 * transports first (media keeps its m-lines, the others see the person as reconnecting), a full
 * rebuild only when ICE restarts do not bring them back.
 */
export class IceRecovery {
  /** ICE restarts since the transports were last all connected. */
  private attempts = 0;
  /** Media stopped arriving (StallWatch) and has not come back since. */
  private stalledNow = false;

  constructor(private readonly timers: Timers, private readonly hooks: IceRecoveryHooks) {}

  /** One of our transports (or the server's view of one) changed state. */
  transportState(state: 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed'): void {
    if (state === 'connected') {
      if (this.hooks.healthy()) this.settle();
    } else if (state === 'failed') {
      this.hooks.probeSocket();
      this.restartNow('a transport failed');
    } else if (state === 'disconnected') {
      this.hooks.probeSocket();
      if (this.timers.has('iceRestartWait')) return; // one is already under way
      this.timers.set('iceDisconnected', DISCONNECTED_GRACE_MS, () => {
        if (!this.hooks.healthy()) this.restartNow('a transport is disconnected');
      });
    }
  }

  /** The browser says its network changed or came back. */
  networkChanged(): void {
    this.timers.set('iceNetwork', NETWORK_GRACE_MS, () => {
      if (!this.hooks.healthy()) this.restartNow('the network changed', true);
    });
  }

  /** The socket is back on the same seat: whatever is not connected restarts ICE at once. */
  resumed(): void {
    if (!this.hooks.healthy('ours')) return this.restartNow('the socket came back', true);
    // The browser may not have noticed yet (Chromium takes ~6 s after an address change).
    if (this.stalledNow) {
      this.timers.set('iceStallResumed', STALL_AFTER_RESUME_MS, () => {
        if (this.stalledNow) this.restartNow('media stopped arriving before the socket dropped', true);
      });
    }
  }

  /** Media stopped arriving (the socket is being probed). */
  stalled(): void {
    this.stalledNow = true;
  }

  /** ... and the socket answered: the media path alone is gone. */
  stalledWithSocket(): void {
    if (this.stalledNow) this.restartNow('media stopped arriving');
  }

  /**
   * Media arrives again. A restart under way that brought it back is done: a browser whose
   * transports stay `connected` through the restart (Firefox keeps the old pair until the new
   * one works) sends no `connected` to settle it, and the next drop must not count it as failed.
   */
  flowing(): void {
    this.stalledNow = false;
    if (this.timers.has('iceRestartWait') && this.hooks.healthy()) this.settle();
  }

  /** New transports (start, close): nothing to recover. */
  reset(): void {
    this.attempts = 0;
    this.stalledNow = false;
    for (const name of ['iceDisconnected', 'iceNetwork', 'iceRestartWait', 'iceStallResumed']) this.timers.clear(name);
  }

  private settle(): void {
    this.reset();
  }

  /** `force`: even if a restart is under way (its offer may have been lost with the old socket). */
  private restartNow(why: string, force = false): void {
    if (!force && this.timers.has('iceRestartWait')) return;
    this.timers.clear('iceDisconnected');
    if (!this.hooks.online()) {
      // Nowhere to send checks from: 'online' calls networkChanged; look again later regardless.
      this.timers.set('iceRestartWait', ICE_RESTART_WAIT_MS, () => this.restartNow(why, true));
      return;
    }
    if (this.attempts >= ICE_RESTARTS_BEFORE_REBUILD) {
      console.info(`parley: ICE restarts did not bring media back; rebuilding it (${why})`);
      this.reset();
      this.hooks.rebuild();
      return;
    }
    this.attempts++;
    console.info(`parley: restarting ICE (${why})`);
    this.hooks.restartIce(why);
    this.timers.set('iceRestartWait', ICE_RESTART_WAIT_MS, () => {
      if (!this.hooks.healthy()) this.restartNow('the last ICE restart did not bring media back', true);
      else this.settle();
    });
  }
}
