// Key client events (join, media errors, reconnects) go to the server's log via
// POST /logs: one JSON object with an `event`, at most 32 KB. Best effort only.

export const MAX_LOG_BYTES = 32 * 1024;
const MAX_FIELD_CHARS = 2000;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The JSON body for an event, shortened to fit the server's 32 KB limit. */
export function logBody(event: string, fields: LogFields = {}): string {
  const record: Record<string, unknown> = { event: event.slice(0, 64) };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || key === 'event') continue;
    record[key] = typeof value === 'string' ? value.slice(0, MAX_FIELD_CHARS) : value;
  }
  let body = JSON.stringify(record);
  if (new TextEncoder().encode(body).length > MAX_LOG_BYTES) {
    body = JSON.stringify({ event: record.event, truncated: true });
  }
  return body;
}

export function postLog(event: string, fields: LogFields = {}): void {
  try {
    void fetch('/logs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: logBody(event, { ...fields, ua: navigator.userAgent }),
      keepalive: true,
      credentials: 'same-origin',
    }).catch(() => undefined);
  } catch {
    // logging must never break the call
  }
}
