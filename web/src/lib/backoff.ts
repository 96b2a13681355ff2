// Reconnect delays: exponential from 500 ms, capped at 10 s, with ±20 % jitter so
// a room of clients does not reconnect in lockstep after a server restart.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  const jitter = 0.8 + random() * 0.4;
  return Math.round(Math.min(BACKOFF_MAX_MS, exp * jitter));
}
