import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** The current time, re-rendered every `intervalMs` (one shared clock per component). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** The route in the URL fragment (`#/inbox`, `#/actions/<id>`), so links and the back button just work. */
export function useHashRoute(): string {
  const read = () => decodeURIComponent(location.hash.replace(/^#/, '')) || '/inbox';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  /** When the data was last fetched successfully. */
  updatedAt?: Date;
  reload: () => void;
}

/**
 * Loads data and refreshes it every `refreshMs` while the tab is visible (auto-refresh), and again
 * as soon as it becomes visible. A refresh keeps showing the previous data until the new arrives.
 */
export function usePolling<T>(load: () => Promise<T>, deps: unknown[], refreshMs = 10_000): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, 'reload'>>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false, updatedAt: new Date() }),
      (err: Error) => mine === generation.current && setState((previous) => ({ ...previous, loading: false, error: err.message })),
    );
  }, deps);
  useEffect(() => {
    setState({ loading: true });
    run();
    const timer = setInterval(() => document.visibilityState === 'visible' && run(), refreshMs);
    const onVisible = () => document.visibilityState === 'visible' && run();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      generation.current++;
    };
  }, [run, refreshMs]);
  return { ...state, reload: run };
}
