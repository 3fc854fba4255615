import { useCallback, useEffect, useRef, useState } from "react";
import type { Page } from "./types";

export interface PagedList<T> {
  items: T[];
  nextToken?: string;
  loading: boolean;
  error: unknown;
  /** Load the next page onto the list. */
  more: () => Promise<void>;
}

/**
 * A list the API pages with ``nextToken``: the first page now, more on demand, and, with
 * ``refreshMs``, the pages already shown read again on that interval (a refresh never
 * shortens what the user has loaded). An error is kept and shown; the items stay.
 */
export function usePagedList<T>(
  fetchPage: (token?: string) => Promise<Page<T>>,
  deps: unknown[],
  refreshMs?: number,
): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [nextToken, setNextToken] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const pages = useRef(1);

  const load = useCallback(async (count: number) => {
    setLoading(true);
    try {
      const loaded: T[] = [];
      let token: string | undefined;
      for (let page = 0; page < count; page += 1) {
        const answer = await fetchRef.current(token);
        loaded.push(...answer.items);
        token = answer.nextToken;
        if (!token) break;
      }
      setItems(loaded);
      setNextToken(token);
      setError(undefined);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    pages.current = 1;
    void load(1);
    if (!refreshMs) return undefined;
    const timer = window.setInterval(() => void load(pages.current), refreshMs);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const more = useCallback(async () => {
    pages.current += 1;
    await load(pages.current);
  }, [load]);

  return { items, nextToken, loading, error, more };
}
