// MsePlayer against a fake MediaSource: a publisher's new stream is spliced onto
// the running SourceBuffer (old stream appended to its end, parser reset, new
// stream moved to the buffer's end), and a splice that fails starts a fresh
// MediaSource from the new stream's first bytes.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bytes } from './appendQueue';
import { MsePlayer } from './player';

const MIME = 'video/webm;codecs=vp8,opus';

class FakeSourceBuffer {
  mode = 'segments';
  updating = false;
  ranges: [number, number][] = [];
  log: string[] = [];
  failAbort = false;
  private offset = 0;
  private listeners = new Map<string, (() => void)[]>();

  get buffered() {
    const ranges = this.ranges;
    return { length: ranges.length, start: (i: number) => ranges[i][0], end: (i: number) => ranges[i][1] };
  }

  get timestampOffset(): number {
    return this.offset;
  }

  set timestampOffset(value: number) {
    this.offset = value;
    this.log.push(`offset ${value}`);
  }

  addEventListener(type: string, listener: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  appendBuffer(data: Bytes): void {
    this.log.push(`append ${data[data.length - 1]}`); // chunks end with a tag byte
    this.updating = true;
  }

  abort(): void {
    if (this.failAbort) throw new Error('InvalidStateError');
    this.log.push('abort');
  }


  /** The append finished (and now `ranges` are buffered). */
  finish(ranges?: [number, number][]): void {
    if (ranges) this.ranges = ranges;
    this.updating = false;
    for (const listener of this.listeners.get('updateend') ?? []) listener();
  }
}

class FakeMediaSource {
  static instances: FakeMediaSource[] = [];
  readyState = 'closed';
  duration = Number.POSITIVE_INFINITY; // a live WebM stream has none
  buffers: FakeSourceBuffer[] = [];
  private onOpen: (() => void) | null = null;

  constructor() {
    FakeMediaSource.instances.push(this);
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === 'sourceopen') this.onOpen = listener;
  }

  addSourceBuffer(): FakeSourceBuffer {
    const sb = new FakeSourceBuffer();
    this.buffers.push(sb);
    return sb;
  }

  endOfStream(): void {
    this.readyState = 'ended';
  }

  open(): FakeSourceBuffer {
    this.readyState = 'open';
    this.onOpen?.();
    return this.buffers[this.buffers.length - 1];
  }
}

// A minimal WebM stream start: EBML header, open Segment with Info, then a Cluster at `timecodeMs`.
const UNKNOWN = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const INIT = [0x1a, 0x45, 0xdf, 0xa3, 0x80, 0x18, 0x53, 0x80, 0x67, ...UNKNOWN, 0x15, 0x49, 0xa9, 0x66, 0x80];
const cluster = (timecodeMs: number) => [0x1f, 0x43, 0xb6, 0x75, ...UNKNOWN, 0xe7, 0x82, timecodeMs >> 8, timecodeMs & 0xff];
/** Bytes ending with `tag` (for following them through the fake): a Void element carries it. */
const tagged = (bytes: number[], tag: number): Bytes => new Uint8Array([...bytes, 0xec, 0x81, tag]);

function makePlayer() {
  const logs: string[] = [];
  const player = new MsePlayer('peer', MIME, {
    log: (event, fields) => logs.push(`${event} ${fields?.reason ?? ''}`),
    playbackBlocked: () => undefined,
  });
  return { player, logs, ms: () => FakeMediaSource.instances[FakeMediaSource.instances.length - 1] };
}

/** A player that plays a first stream: its init and one cluster appended, 0–5 s buffered. */
function playingPlayer() {
  const made = makePlayer();
  const sb = made.ms().open();
  made.player.push(tagged(INIT, 1));
  sb.finish();
  made.player.push(tagged(cluster(0), 2));
  sb.finish([[0, 5]]);
  sb.log = [];
  return { ...made, sb };
}

describe('MsePlayer restarts', () => {
  beforeEach(() => {
    FakeMediaSource.instances = [];
    vi.stubGlobal('window', { MediaSource: FakeMediaSource });
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:fake');
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('splices a new stream onto the running SourceBuffer, right after what is buffered', () => {
    const { player, sb } = playingPlayer();
    player.push(tagged(cluster(40), 3)); // the old stream goes on…
    expect(player.restart(MIME)).toBe(true); // …when the new one is announced
    player.push(tagged(INIT, 4)); // the new stream's init segment: waits for its first Cluster's time
    expect(sb.log).toEqual(['append 3']);
    player.push(tagged(cluster(500), 5));
    expect(sb.log).toEqual(['append 3']); // the old stream's last chunk is still being appended
    sb.finish([[0, 5.2]]);
    expect(sb.log).toEqual(['append 3', 'abort', 'offset 4.7', 'append 4']);
    sb.finish();
    expect(sb.log.at(-1)).toBe('append 5');
    expect(player.splices).toBe(1);
    expect(player.rebuilds).toBe(0);
    expect(FakeMediaSource.instances).toHaveLength(1);
    player.destroy();
  });

  it("puts the new stream after the old one's last frame where a track reaches past the buffered end", () => {
    const { player, sb } = playingPlayer();
    // Video goes on to 5.3 s while audio (and so `buffered`) ends at 5.2 s: a browser may have read it.
    player.push(tagged([...cluster(5000), 0xa3, 0x84, 0x81, 0x01, 0x2c, 0x80], 3)); // a block at 5000 + 300 ms
    sb.finish([[0, 5.2]]);
    expect(player.restart(MIME)).toBe(true);
    player.push(tagged([...INIT, ...cluster(0)], 4));
    expect(sb.log).toEqual(['append 3', 'abort', 'offset 5.301', 'append 4']);
    player.destroy();
  });

  it('drops a new stream that a newer one replaces before its first Cluster arrived', () => {
    const { player, sb } = playingPlayer();
    player.push(tagged([...cluster(5000), 0xa3, 0x84, 0x81, 0x01, 0x2c, 0x80], 3));
    sb.finish([[0, 5.2]]);
    expect(player.restart(MIME)).toBe(true);
    player.push(tagged(INIT, 4)); // …and no more of that stream
    expect(player.restart(MIME)).toBe(true);
    player.push(tagged([...INIT, ...cluster(0)], 5));
    expect(sb.log).toEqual(['append 3', 'abort', 'offset 5.301', 'append 5']);
    expect(player.splices).toBe(1);
    player.destroy();
  });

  it('leaves a new type, or a player that does not play yet, to a fresh player', () => {
    const { player } = playingPlayer();
    expect(player.restart('audio/webm;codecs=opus')).toBe(false);
    player.destroy();
    const fresh = makePlayer();
    expect(fresh.player.restart(MIME)).toBe(false); // its MediaSource is not even open
    fresh.ms().open();
    fresh.player.push(tagged(INIT, 1));
    expect(fresh.player.restart(MIME)).toBe(false); // nothing buffered yet
    fresh.player.destroy();
  });

  it("starts a fresh MediaSource from the new stream's first bytes when the splice fails", () => {
    const { player, sb, logs, ms } = playingPlayer();
    sb.failAbort = true;
    expect(player.restart(MIME)).toBe(true);
    player.push(tagged(INIT, 4));
    player.push(tagged([...cluster(0), 0xa3, 0x80], 5));
    expect(FakeMediaSource.instances).toHaveLength(2);
    expect(logs).toContain('media-error splice');
    expect(player.rebuilds).toBe(1);
    expect(player.splices).toBe(0);
    const fresh = ms().open();
    expect(fresh.log).toEqual(['append 4']);
    fresh.finish();
    expect(fresh.log).toEqual(['append 4', 'append 5']);
    player.destroy();
  });

  it('rebuilds from the new stream when it is not WebM after all', () => {
    const { player, ms } = playingPlayer();
    expect(player.restart(MIME)).toBe(true);
    player.push(tagged([0x1f, 0x43, 0xb6, 0x75, 0x80], 7)); // no EBML header
    expect(FakeMediaSource.instances).toHaveLength(2);
    expect(ms().open().log).toEqual(['append 7']);
    player.destroy();
  });
});
