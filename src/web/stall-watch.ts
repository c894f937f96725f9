import type { Timers } from './timers.ts';

const CHECK_MS = 500;
/** Bytes were arriving and then nothing for this long: the path may be gone. */
const STALL_MS = 1_000;
/**
 * Checks in a row with new bytes before a flow counts as flowing: media grows every check, the
 * odd SCTP heartbeat or RTCP report of an otherwise quiet transport does not.
 */
const FLOWING_CHECKS = 3;

/**
 * Watches what arrives on the subscriber transport (RTP, RTCP and checks, summed over its
 * candidate pairs, which both Chromium and Firefox report). When a flow that was arriving stops,
 * `onStall` runs once (until bytes arrive again): the page then checks its socket and restarts
 * ICE, well before the browser calls the transport disconnected (Chromium: ~6 s after its
 * address changed). It also fires when the others simply stop sending (all muted, the last
 * one left): then an ICE restart costs one offer and answer, and nothing was flowing anyway.
 */
export class StallWatch {
  private lastBytes = -1;
  private lastChange = 0;
  private flowing = false;
  private growing = 0;

  constructor(
    private readonly timers: Timers,
    private readonly pc: RTCPeerConnection,
    private readonly onStall: () => void,
    /** Bytes arrive again after a stall. */
    private readonly onFlowing: () => void,
  ) {
    this.schedule();
  }

  stop(): void {
    this.timers.clear('stallCheck');
  }

  private schedule(): void {
    this.timers.set('stallCheck', CHECK_MS, () => void this.check());
  }

  private async check(): Promise<void> {
    if (this.pc.connectionState === 'closed') return;
    let bytes = 0;
    try {
      (await this.pc.getStats()).forEach((s: { type: string; bytesReceived?: number }) => {
        if (s.type === 'candidate-pair') bytes += s.bytesReceived ?? 0;
      });
    } catch {
      return this.schedule();
    }
    const now = Date.now();
    if (bytes !== this.lastBytes) {
      if (this.lastBytes >= 0) this.growing++;
      if (!this.flowing && this.growing >= FLOWING_CHECKS) {
        this.flowing = true;
        this.onFlowing();
      }
      this.lastBytes = bytes;
      this.lastChange = now;
    } else {
      this.growing = 0;
      if (this.flowing && now - this.lastChange >= STALL_MS) {
        this.flowing = false;
        this.onStall();
      }
    }
    this.schedule();
  }
}
