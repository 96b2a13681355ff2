// The ordered append queue in front of a SourceBuffer: chunks wait while the
// buffer is updating and are never dropped. Kept free of DOM types so it can be
// unit-tested with a fake buffer.

/** Bytes backed by a plain ArrayBuffer (what SourceBuffer.appendBuffer accepts). */
export type Bytes = Uint8Array<ArrayBuffer>;

export interface AppendTarget {
  readonly updating: boolean;
  appendBuffer(data: Bytes): void;
}

export type AppendFailure = 'quota' | 'fatal';

export class AppendQueue {
  private readonly items: Bytes[] = [];
  private bytes = 0;
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

  clear(): void {
    this.items.length = 0;
    this.bytes = 0;
  }

  /** Append the next chunk if the target is idle. Call again on every `updateend`. */
  pump(target: AppendTarget | null): void {
    if (!target || target.updating || this.items.length === 0) return;
    const next = this.items[0];
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
