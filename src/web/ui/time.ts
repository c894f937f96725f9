import { useEffect, useState } from 'preact/hooks';

/**
 * The current time, re-read every `intervalMs` (null: not at all). With `anchor` (ms epoch) the
 * ticks fall on whole intervals before or after it, so a countdown to it changes its seconds
 * exactly when they change, once per interval and no more often.
 */
export function useNow(intervalMs: number | null, anchor = 0): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (intervalMs === null) return;
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      const t = Date.now();
      setNow(t);
      const into = (((t - anchor) % intervalMs) + intervalMs) % intervalMs;
      timer = setTimeout(tick, intervalMs - into + 5);
    };
    tick();
    return () => clearTimeout(timer);
  }, [intervalMs, anchor]);
  return now;
}
