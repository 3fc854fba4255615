import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  updatedAt: Date | undefined;
  refresh: () => Promise<void>;
}

/**
 * Load with ``load`` now and every ``intervalMs`` while ``active`` (progress refreshes
 * without reloading the page). An error is kept and shown; the last good data stays.
 */
export function usePolling<T>(
  load: () => Promise<T>,
  intervalMs: number,
  active: boolean | ((data: T | undefined) => boolean) = true,
  deps: unknown[] = [],
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<Date>();
  const loadRef = useRef(load);
  loadRef.current = load;

  const refresh = useCallback(async () => {
    try {
      const next = await loadRef.current();
      setData(next);
      setError(undefined);
      setUpdatedAt(new Date());
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    setLoading(true);
    void refresh();
  }, [refresh]);

  const keepGoing = typeof active === "function" ? active(data) : active;
  useEffect(() => {
    if (!keepGoing) return undefined;
    const timer = window.setInterval(() => void refresh(), intervalMs);
    return () => window.clearInterval(timer);
  }, [keepGoing, intervalMs, refresh]);

  return { data, error, loading, updatedAt, refresh };
}
