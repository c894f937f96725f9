// What the SFU objects of one worker thread share: settings, the event sink towards the main
// thread, counters.
import type { WorkerCounters, WorkerEvent, WorkerSettings } from '../protocol.js';

export interface WorkerContext {
  settings: WorkerSettings;
  emit(event: WorkerEvent): void;
  log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  counters: Omit<WorkerCounters, 'rooms' | 'peers' | 'cpuSeconds' | 'tracksPublished' | 'tracksForwarded' | 'loopStalls' | 'loopStalledSeconds' | 'packetsResent' | 'resendsMissing'>;
  /**
   * Runs ICE gathering (setLocalDescription) one at a time when a port range is configured:
   * werift probes the range by binding and closing sockets, then binds again, so two
   * concurrent gatherings can pick the same port and the second bind fails.
   */
  gather<T>(fn: () => Promise<T>): Promise<T>;
}

export function createGatherLock(enabled: boolean): WorkerContext['gather'] {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    if (!enabled) return fn();
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
