import { React } from './api';

/**
 * Calls `load` now and every `intervalMs` while the browser tab is visible; stops while it is hidden
 * (no operation is started for nobody to see) and when the component goes away. `refresh()` loads at once.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number): { data: T | undefined; error: string | undefined; refresh: () => Promise<void> } {
  const [data, setData] = React.useState<T | undefined>(undefined);
  const [error, setError] = React.useState<string | undefined>(undefined);
  const loadRef = React.useRef(load);
  loadRef.current = load;
  const control = React.useRef<{ refresh: () => Promise<void> }>({ refresh: async () => undefined });

  React.useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    let inFlight: Promise<void> | undefined;
    const schedule = () => {
      window.clearTimeout(timer);
      timer = undefined;
      if (alive && document.visibilityState === 'visible') timer = window.setTimeout(() => void tick(), intervalMs);
    };
    const tick = (): Promise<void> => {
      if (inFlight) return inFlight;
      inFlight = (async () => {
        try {
          const value = await loadRef.current();
          if (alive) {
            setData(value);
            setError(undefined);
          }
        } catch (err) {
          if (alive) setError((err as Error).message);
        } finally {
          inFlight = undefined;
          schedule();
        }
      })();
      return inFlight;
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') void tick();
      else {
        window.clearTimeout(timer);
        timer = undefined;
      }
    };
    control.current.refresh = tick;
    document.addEventListener('visibilitychange', onVisibility);
    if (document.visibilityState === 'visible') void tick();
    return () => {
      alive = false;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs]);

  return { data, error, refresh: () => control.current.refresh() };
}

/** The current time, ticking every `ms`, so "3 min ago" stays true between loads. */
export function useNow(ms = 15_000): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}
