// What the ws player does with a publisher's new stream (a fresh `media-start`
// while it plays the old one): splice it onto the running SourceBuffer, or
// build a new MediaSource. Kept free of DOM types so it can be unit-tested.
//
// Why the client splices, not the server: a publisher restarts its recorder
// for a keyframe request, after congestion, or with a new camera or
// microphone, and the new stream's initialization segment may differ (another
// resolution, channel count, track numbering). Only the viewer's SourceBuffer
// can tell whether it takes the new init segment, and a viewer that cannot
// splice simply rebuilds. The server keeps sending every subscriber a complete
// stream after each `media-start` (init segment, clusters from timecode 0), so
// the original client, which rebuilds on `media-start`, gets exactly what it
// always got.
//
// Why `timestampOffset` in 'segments' mode, not 'sequence' mode: the splice is
// one known point, and an offset set there (after `abort()`, which also drops
// the old stream's unfinished element) moves the new stream to the end of what
// is buffered and changes nothing else. 'sequence' mode re-times every append:
// any gap in one track (a dropped frame, a stalled camera) restarts the group
// at the end of the other, pulling audio and video apart.

import type { Bytes } from './appendQueue';

export type RestartPlan = 'splice' | 'rebuild';

/** The state of a player when its publisher's next stream is announced. */
export interface PlayerState {
  mimeType: string;
  /** The MediaSource is open and has its SourceBuffer. */
  open: boolean;
  /** Something is buffered (the old stream has really played, or is about to). */
  buffered: boolean;
  /** The player is recovering from a failure (waiting for a Cluster on a fresh source). */
  recovering: boolean;
  /** The element reports an error. */
  failed: boolean;
}

/** Media types compared as the SourceBuffer sees them: case, spaces and quotes do not count. */
export function sameMediaType(a: string, b: string): boolean {
  const norm = (t: string) => t.toLowerCase().replace(/[\s"]/g, '');
  return norm(a) === norm(b);
}

function isWebm(mimeType: string): boolean {
  const type = mimeType.split(';', 1)[0].trim().toLowerCase();
  return type === 'video/webm' || type === 'audio/webm';
}

/**
 * Splice when the player really plays a WebM stream of the same type;
 * otherwise a fresh MediaSource costs nothing anyone would see (nothing is
 * playing yet) or is the only option (another type needs another SourceBuffer).
 */
export function restartPlan(player: PlayerState, nextMimeType: string): RestartPlan {
  if (!sameMediaType(player.mimeType, nextMimeType) || !isWebm(nextMimeType)) return 'rebuild';
  if (!player.open || !player.buffered || player.recovering || player.failed) return 'rebuild';
  return 'splice';
}

/** Just after a frame, so that frame is not replaced but shortened (MSE keeps a frame overlapped by less than its start + 1 µs). */
export const AFTER_FRAME_S = 0.001;

/**
 * Where the new stream starts: the end of what is buffered, or just after the
 * old stream's newest block (`oldLatest`, on its own timeline, which
 * `oldOffset` maps to the buffer's) if a track reaches past that end.
 */
export function spliceAt(bufferedEnd: number, oldLatest: number | null, oldOffset: number): number {
  if (oldLatest === null) return bufferedEnd;
  return Math.max(bufferedEnd, oldOffset + oldLatest + AFTER_FRAME_S);
}

/** The timestampOffset that puts a stream whose first Cluster is at `firstTime` at `at`. */
export function spliceOffset(at: number, firstTime: number): number {
  return at - firstTime;
}

/**
 * The current stream's bytes from its first one, while they are few: they hold
 * its init segment and first Cluster (a splice reads the Cluster's time there),
 * and if the splice fails a fresh MediaSource starts from them at once instead
 * of waiting for the next keyframe (seconds, with a Firefox publisher).
 */
export class StreamHead {
  private items: Bytes[] = [];
  private size = 0;
  /** False once the stream outgrew `maxBytes`: the head is gone for good. */
  intact = true;

  constructor(private readonly maxBytes: number) {}

  get chunks(): readonly Bytes[] {
    return this.items;
  }

  get bytes(): number {
    return this.size;
  }

  /** A new stream begins. */
  reset(): void {
    this.items = [];
    this.size = 0;
    this.intact = true;
  }

  add(chunk: Bytes): void {
    if (!this.intact) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.items = [];
      this.intact = false;
      return;
    }
    this.items.push(chunk);
  }

  /** Everything so far in one buffer (only read while a splice waits for its first Cluster). */
  joined(): Bytes {
    if (this.items.length === 1) return this.items[0];
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const item of this.items) {
      out.set(item, at);
      at += item.length;
    }
    return out;
  }
}
