// Query parameters that must not stay in the address bar: `name` is ignored (a
// link must not choose someone's name) and `token` is carried by the HttpOnly
// cookie the server set when it served the page.

export const STRIPPED_PARAMS = ['name', 'token'] as const;

/** The address without `name`/`token`, or null when nothing needs to change. */
export function cleanedUrl(href: string): string | null {
  const url = new URL(href);
  let changed = false;
  for (const key of STRIPPED_PARAMS) {
    if (url.searchParams.has(key)) {
      url.searchParams.delete(key);
      changed = true;
    }
  }
  if (!changed) return null;
  const search = url.searchParams.toString();
  return `${url.pathname}${search ? `?${search}` : ''}${url.hash}`;
}

/** Replace the current history entry with the cleaned address (no navigation). */
export function stripSensitiveParams(win: Pick<Window, 'location' | 'history'>): boolean {
  const next = cleanedUrl(win.location.href);
  if (next === null) return false;
  win.history.replaceState(win.history.state, '', next);
  return true;
}

/** The WebSocket endpoint for the page's origin. */
export function wsUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
