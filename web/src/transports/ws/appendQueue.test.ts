import { describe, expect, it } from 'vitest';
import { AppendQueue, type AppendTarget, type Bytes } from './appendQueue';

class FakeBuffer implements AppendTarget {
  updating = false;
  appended: number[][] = [];
  failNext: string | null = null;

  appendBuffer(data: Bytes): void {
    if (this.failNext) {
      const name = this.failNext;
      this.failNext = null;
      throw Object.assign(new Error(name), { name });
    }
    this.appended.push(Array.from(data));
    this.updating = true;
  }

  finish(): void {
    this.updating = false;
  }
}

const bytes = (...values: number[]): Bytes => new Uint8Array(values);

describe('AppendQueue', () => {
  it('waits while the buffer is updating and keeps order', () => {
    const failures: string[] = [];
    const q = new AppendQueue((kind) => failures.push(kind));
    const sb = new FakeBuffer();
    q.push(bytes(1));
    q.push(bytes(2));
    q.pump(sb);
    q.push(bytes(3));
    q.pump(sb); // updating: nothing happens
    expect(sb.appended).toEqual([[1]]);
    sb.finish();
    q.pump(sb);
    sb.finish();
    q.pump(sb);
    expect(sb.appended).toEqual([[1], [2], [3]]);
    expect(q.length).toBe(0);
    expect(q.appended).toBe(3);
    expect(failures).toEqual([]);
  });

  it('queues until a buffer exists', () => {
    const q = new AppendQueue(() => undefined);
    q.push(bytes(1, 2));
    q.pump(null);
    expect(q.length).toBe(1);
    expect(q.queuedBytes).toBe(2);
  });

  it('keeps a chunk that failed at the head (never drops)', () => {
    const failures: string[] = [];
    const q = new AppendQueue((kind) => failures.push(kind));
    const sb = new FakeBuffer();
    q.push(bytes(1));
    q.push(bytes(2));
    sb.failNext = 'QuotaExceededError';
    q.pump(sb);
    expect(failures).toEqual(['quota']);
    expect(q.length).toBe(2);
    q.pump(sb);
    expect(sb.appended).toEqual([[1]]);
    sb.finish();
    sb.failNext = 'InvalidStateError';
    q.pump(sb);
    expect(failures).toEqual(['quota', 'fatal']);
    expect(q.length).toBe(1);
  });

  it('runs a step once everything before it is appended, then goes on', () => {
    const failures: string[] = [];
    const q = new AppendQueue<FakeBuffer>((kind) => failures.push(kind));
    const sb = new FakeBuffer();
    const ran: number[][][] = [];
    q.push(bytes(1));
    q.pushStep((target) => ran.push(target.appended.map((a) => [...a])));
    q.push(bytes(2));
    q.pump(sb);
    expect(ran).toEqual([]); // chunk 1 is still being appended
    sb.finish();
    q.pump(sb); // the step runs, and chunk 2 goes in the same pump
    expect(ran).toEqual([[[1]]]);
    expect(sb.appended).toEqual([[1], [2]]);
    expect(failures).toEqual([]);
  });

  it('reports a failed step and drops it', () => {
    const failures: string[] = [];
    const q = new AppendQueue((kind) => failures.push(kind));
    const sb = new FakeBuffer();
    q.pushStep(() => {
      throw new Error('InvalidStateError');
    });
    q.push(bytes(1));
    q.pump(sb);
    expect(failures).toEqual(['fatal']);
    q.pump(sb);
    expect(sb.appended).toEqual([[1]]);
  });

  it('stops pumping when a step starts the queue over (its chunks are for another buffer)', () => {
    const q = new AppendQueue(() => undefined);
    const sb = new FakeBuffer();
    q.pushStep(() => {
      q.clear();
      q.push(bytes(9));
    });
    q.push(bytes(1));
    q.pump(sb);
    expect(sb.appended).toEqual([]);
    expect(q.length).toBe(1);
  });
});
