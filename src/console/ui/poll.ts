import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { failure } from '../api.ts';

export interface Polled<T> {
  data?: T;
  error?: string;
  /** Loads again now (after a change), and keeps polling. */
  refresh: () => Promise<void>;
}

/** Loads `load()` now and every `everyMs` while the component is shown. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const loader = useRef(load);
  loader.current = load;
  const alive = useRef(true);

  const refresh = useCallback(async () => {
    try {
      const data = await loader.current();
      if (alive.current) setState({ data });
    } catch (error) {
      if (alive.current) setState((s) => ({ data: s.data, error: failure(error) }));
    }
  }, []);

  useEffect(() => {
    alive.current = true;
    let timer: number | undefined;
    const tick = async () => {
      await refresh();
      if (alive.current) timer = window.setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      alive.current = false;
      window.clearTimeout(timer);
    };
  }, [everyMs, refresh]);

  return { ...state, refresh };
}
