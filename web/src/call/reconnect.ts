// When to try again after the socket dropped: a growing delay per attempt
// (lib/backoff.ts in the browser), with a countdown for the status line. The
// attempts start over once a join succeeds.

const COUNTDOWN_TICK_MS = 500;

export class ReconnectTimer {
  private attempt = 0;
  private due: ReturnType<typeof setTimeout> | null = null;
  private countdown: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly delayFor: (attempt: number) => number) {}

  /**
   * Run `retry` after the next attempt's delay; `tick` gets the whole seconds
   * left (at least 1), now and every half second until then.
   */
  schedule(tick: (secondsLeft: number) => void, retry: () => void): { attempt: number; delayMs: number } {
    this.cancel();
    const delayMs = this.delayFor(this.attempt);
    this.attempt += 1;
    const at = Date.now() + delayMs;
    const update = () => tick(Math.max(1, Math.ceil((at - Date.now()) / 1000)));
    update();
    this.countdown = setInterval(update, COUNTDOWN_TICK_MS);
    this.due = setTimeout(() => {
      this.cancel();
      retry();
    }, delayMs);
    return { attempt: this.attempt, delayMs };
  }

  /** A join succeeded: the next drop starts from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }

  cancel(): void {
    if (this.due !== null) clearTimeout(this.due);
    if (this.countdown !== null) clearInterval(this.countdown);
    this.due = null;
    this.countdown = null;
  }
}
