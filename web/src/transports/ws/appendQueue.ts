// The ordered append queue in front of a SourceBuffer: chunks wait while the
// buffer is updating and are never dropped. A step may sit between chunks (a
// splice resets the parser and moves the timeline once the old stream's
// chunks before it are in). Kept free of DOM types so it can be unit-tested
// with a fake buffer.

/** Bytes backed by a plain ArrayBuffer (what SourceBuffer.appendBuffer accepts). */
export type Bytes = Uint8Array<ArrayBuffer>;

export interface AppendTarget {
  readonly updating: boolean;
  appendBuffer(data: Bytes): void;
}

/** Runs once, synchronously, when everything queued before it has been appended and the target is idle. */
export type QueueStep<T extends AppendTarget = AppendTarget> = (target: T) => void;

export type AppendFailure = 'quota' | 'fatal';

export class AppendQueue<T extends AppendTarget = AppendTarget> {
  private readonly items: (Bytes | QueueStep<T>)[] = [];
  private bytes = 0;
  /** Bumped by clear(): a step that cleared the queue ends the pump that ran it. */
  private epoch = 0;
  appended = 0;

  constructor(private readonly onFailure: (kind: AppendFailure, error: unknown) => void) {}

  get length(): number {
    return this.items.length;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  push(chunk: Bytes): void {
    this.items.push(chunk);
    this.bytes += chunk.length;
  }

  /** Queue a step after the chunks queued so far. */
  pushStep(step: QueueStep<T>): void {
    this.items.push(step);
  }

  clear(): void {
    this.epoch += 1;
    this.items.length = 0;
    this.bytes = 0;
  }

  /** Run due steps, then append the next chunk if the target is idle. Call again on every `updateend`. */
  pump(target: T | null): void {
    if (!target) return;
    const epoch = this.epoch;
    while (!target.updating && typeof this.items[0] === 'function') {
      const step = this.items.shift() as QueueStep<T>;
      try {
        step(target);
      } catch (error) {
        // A step runs once; its failure is the caller's to handle.
        this.onFailure('fatal', error);
        return;
      }
      if (this.epoch !== epoch) return; // the step started over (on another target)
    }
    if (target.updating || this.items.length === 0) return;
    const next = this.items[0] as Bytes;
    try {
      target.appendBuffer(next);
    } catch (error) {
      // The chunk stays at the head of the queue: it is retried, never skipped.
      const quota = (error as { name?: unknown } | null)?.name === 'QuotaExceededError';
      this.onFailure(quota ? 'quota' : 'fatal', error);
      return;
    }
    this.items.shift();
    this.bytes -= next.length;
    this.appended += next.length;
  }
}
