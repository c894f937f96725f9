import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IceRecovery } from '../../src/web/ice-recovery.js';
import { Timers } from '../../src/web/timers.js';

// The room's way back after a network drop (src/web/ice-recovery.ts), on an injected clock: ICE
// restarts on the same transports first, a full rebuild only when they do not bring media back.
function harness() {
  const calls: string[] = [];
  const world = { healthy: false, oursHealthy: false, online: true };
  const recovery = new IceRecovery(new Timers(), {
    healthy: (view) => (view === 'ours' ? world.oursHealthy : world.healthy),
    online: () => world.online,
    restartIce: () => calls.push('restartIce'),
    rebuild: () => calls.push('rebuild'),
    probeSocket: () => calls.push('probe'),
  });
  return { calls, world, recovery };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('IceRecovery', () => {
  it('a failed transport probes the socket and restarts ICE at once', () => {
    const { calls, recovery } = harness();
    recovery.transportState('failed');
    expect(calls).toEqual(['probe', 'restartIce']);
  });

  it('a disconnected transport restarts ICE only if it is still not back after a grace', () => {
    const h = harness();
    h.recovery.transportState('disconnected');
    expect(h.calls).toEqual(['probe']);
    vi.advanceTimersByTime(1_000);
    expect(h.calls).toEqual(['probe', 'restartIce']);

    const back = harness();
    back.recovery.transportState('disconnected');
    back.world.healthy = true;
    back.recovery.transportState('connected');
    vi.advanceTimersByTime(10_000);
    expect(back.calls).toEqual(['probe']);
  });

  it('media flowing again settles a restart whose transports never left "connected"', () => {
    const { calls, world, recovery } = harness();
    recovery.transportState('failed');
    world.healthy = true;
    recovery.flowing();
    // The next drop starts a new count: a restart, not a rebuild.
    world.healthy = false;
    vi.advanceTimersByTime(6_000);
    recovery.transportState('failed');
    vi.advanceTimersByTime(6_000);
    expect(calls.filter((c) => c === 'restartIce')).toHaveLength(3);
    expect(calls).not.toContain('rebuild');
  });

  it('two ICE restarts that do not bring media back are followed by a rebuild; success resets the count', () => {
    const { calls, world, recovery } = harness();
    recovery.transportState('failed');
    vi.advanceTimersByTime(6_000);
    expect(calls.filter((c) => c === 'restartIce')).toHaveLength(2);
    vi.advanceTimersByTime(6_000);
    expect(calls.at(-1)).toBe('rebuild');

    calls.length = 0;
    recovery.transportState('failed');
    world.healthy = true;
    recovery.transportState('connected');
    world.healthy = false;
    recovery.transportState('failed');
    expect(calls.filter((c) => c === 'restartIce')).toHaveLength(2);
    expect(calls).not.toContain('rebuild');
  });

  it('offline, nothing is restarted; the network coming back restarts ICE if media did not resume by itself', () => {
    const { calls, world, recovery } = harness();
    world.online = false;
    recovery.transportState('failed');
    expect(calls).toEqual(['probe']);
    world.online = true;
    recovery.networkChanged();
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual(['probe', 'restartIce']);

    const fine = harness();
    fine.recovery.networkChanged();
    fine.world.healthy = true;
    vi.advanceTimersByTime(1_000);
    expect(fine.calls).toEqual([]);
  });

  it('media that stopped arriving restarts ICE when the socket answers, or once it is resumed, unless media came back', () => {
    const answered = harness();
    answered.recovery.stalled();
    answered.recovery.stalledWithSocket();
    expect(answered.calls).toEqual(['restartIce']);

    const resumed = harness();
    resumed.world.oursHealthy = true; // the browser has not noticed yet
    resumed.recovery.stalled();
    resumed.recovery.resumed();
    vi.advanceTimersByTime(500);
    expect(resumed.calls).toEqual(['restartIce']);

    const flowing = harness();
    flowing.world.oursHealthy = true;
    flowing.recovery.stalled();
    flowing.recovery.resumed();
    flowing.recovery.flowing();
    vi.advanceTimersByTime(10_000);
    expect(flowing.calls).toEqual([]);
  });
});
