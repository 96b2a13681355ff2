// One remote WS-mode stream played through MediaSource: created on the peer's
// first `media-start`, fed by its binary chunks in order. A later `media-start`
// (the publisher restarted its recorder) is spliced onto the running
// SourceBuffer when it can be (splice.ts); otherwise the transport builds a
// new player.

import { playVideo } from '../playback';
import { AppendQueue, type AppendFailure, type Bytes } from './appendQueue';
import { pickMediaSource, type MediaSourceCtor, type MediaSourceEnv } from './mediaSource';
import { restartPlan, spliceAt, spliceOffset, StreamHead } from './splice';
import { BlockClock, findClusterStart, initSegmentOf, readStreamStart } from './webm';

/** Seek forward when playback is this far behind the newest buffered media. */
export const LIVE_EDGE_MAX_LAG_S = 1.0;
/** Where to land after such a seek, behind the newest buffered media. */
export const LIVE_EDGE_TARGET_S = 0.2;
const KEEP_BEHIND_S = 10;
const TRIM_EVERY_S = 15;
const LIVE_CHECK_MS = 400;
const MIN_REBUILD_INTERVAL_MS = 2000;
/** A stream's first bytes kept for a failed splice (≈10 s of 600 kbit/s video). */
const HEAD_MAX_BYTES = 1024 * 1024;

function mediaSourceCtor(): MediaSourceCtor | null {
  return pickMediaSource(window as unknown as MediaSourceEnv);
}

export interface PlayerHooks {
  log(event: string, fields?: Record<string, string | number | boolean>): void;
  playbackBlocked(): void;
}

export class MsePlayer {
  private ms: MediaSource | null = null;
  private url: string | null = null;
  private sb: SourceBuffer | null = null;
  private video: HTMLVideoElement | null = null;
  /** The element our current MediaSource URL was given to. */
  private bound: HTMLVideoElement | null = null;
  private readonly queue: AppendQueue<SourceBuffer>;
  private init: Bytes | null = null;
  /** The current stream's first bytes (splice.ts). */
  private readonly head = new StreamHead(HEAD_MAX_BYTES);
  /** A new stream is announced: its bytes wait in `head` until its first Cluster's time is known. */
  private splicing = false;
  /** The newest block time of the current stream, and of the one before it (for its splice). */
  private readonly clock = new BlockClock();
  private oldLatest: number | null = null;
  /** After a rebuild: drop incoming bytes until the next Cluster starts. */
  private resyncing = false;
  private lastRebuild = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Stalled: a hole in the buffer (Firefox leaves one where a publisher skipped frames) is
   * jumped at once, not at the next periodic check. */
  private readonly onWaiting = () => this.keepLive();
  private destroyed = false;
  rebuilds = 0;
  /** New streams of this publisher continued on the running SourceBuffer. */
  splices = 0;
  private appendedTotal = 0;

  constructor(
    readonly peerId: string,
    readonly mimeType: string,
    private readonly hooks: PlayerHooks,
  ) {
    this.queue = new AppendQueue<SourceBuffer>((kind, error) => this.onAppendFailure(kind, error));
    this.createSource();
    this.timer = setInterval(() => this.keepLive(), LIVE_CHECK_MS);
  }

  get bytesAppended(): number {
    return this.appendedTotal + this.queue.appended;
  }

  attach(video: HTMLVideoElement | null): void {
    if (video === this.video) return;
    const hadElement = this.video !== null;
    this.video?.removeEventListener('waiting', this.onWaiting);
    this.video = video;
    if (!video) return;
    video.addEventListener('waiting', this.onWaiting);
    if (video === this.bound && this.url !== null && video.src === this.url) return; // same element back
    if (hadElement || (this.ms && this.ms.readyState !== 'closed' && this.sb)) {
      // A MediaSource can be opened by one element only: start over on this one.
      this.rebuild('reattach', true);
      return;
    }
    this.bind(video);
  }

  /**
   * The publisher started a new stream (`media-start`) of `mimeType`: true when
   * this player continues with it on the same SourceBuffer, false when the
   * caller must replace the player.
   */
  restart(mimeType: string): boolean {
    const sb = this.sb;
    const state = {
      mimeType: this.mimeType,
      open: this.ms?.readyState === 'open' && sb !== null,
      buffered: sb !== null && bufferedEnd(sb) !== null,
      recovering: this.resyncing || this.destroyed,
      failed: this.video?.error != null,
    };
    if (restartPlan(state, mimeType) !== 'splice') return false;
    // A stream announced before but never queued (no Cluster yet) is dropped: the
    // buffer still ends with the one before it.
    if (!this.splicing) this.oldLatest = this.clock.latest;
    this.clock.reset();
    this.head.reset();
    this.init = null;
    this.splicing = true;
    return true;
  }

  push(chunk: Bytes): void {
    if (this.destroyed || chunk.length === 0) return;
    this.head.add(chunk);
    this.clock.feed(chunk);
    if (this.init === null) this.init = initSegmentOf(chunk).slice();
    if (this.splicing) {
      this.continueSplice();
      return;
    }
    if (this.resyncing) {
      const at = findClusterStart(chunk);
      if (at < 0) return;
      this.resyncing = false;
      chunk = chunk.subarray(at);
    }
    this.queue.push(chunk);
    this.queue.pump(this.sb);
  }

  /** Queue the new stream once its first Cluster's time is known: a splice step, then its bytes. */
  private continueSplice(): void {
    const start = readStreamStart(this.head.joined());
    if (start === 'more' && this.head.intact) return;
    this.splicing = false;
    if (start === 'more' || start === 'invalid') {
      this.rebuild('splice-unreadable', true);
      return;
    }
    this.init = this.head.joined().slice(0, start.initEnd);
    const oldLatest = this.oldLatest;
    this.queue.pushStep((sb) => this.splice(sb, oldLatest, start.firstTime));
    for (const chunk of this.head.chunks) this.queue.push(chunk);
    this.queue.pump(this.sb);
  }

  /**
   * Everything of the old stream is appended: reset the parser (the old stream
   * may end inside an element) and move the new stream's timeline to where the
   * old one ends. That is the end of `buffered`, or the old stream's newest
   * block if it lies beyond: `buffered` is where every track has media, and a
   * track may go on past it (Firefox's recorder ends its video a few hundred
   * ms after its audio). Chromium may have read that tail already, and then
   * skips a new keyframe placed before it and waits for the next one, seconds
   * later with a Firefox publisher. The audio hole this leaves is jumped like
   * any other (keepLive).
   */
  private splice(sb: SourceBuffer, oldLatest: number | null, firstTime: number): void {
    try {
      sb.abort();
      const end = bufferedEnd(sb);
      if (end === null) throw new Error('nothing buffered');
      sb.timestampOffset = spliceOffset(spliceAt(end, oldLatest, sb.timestampOffset), firstTime);
    } catch (error) {
      this.hooks.log('media-error', { peer: this.peerId, reason: 'splice', error: String(error) });
      this.rebuild('splice', true);
      return;
    }
    this.splices += 1;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.queue.clear();
    const url = this.url;
    this.dropSource();
    // Clear the element only if it still shows this stream (a new player may own it now).
    const video = this.video ?? this.bound;
    if (video && url !== null && video.src === url) {
      video.removeAttribute('src');
      video.load();
    }
    this.video?.removeEventListener('waiting', this.onWaiting);
    this.video = null;
    this.bound = null;
  }

  private createSource(): void {
    const Ctor = mediaSourceCtor();
    if (!Ctor) {
      this.hooks.log('media-error', { peer: this.peerId, reason: 'no MediaSource' });
      return;
    }
    const ms = new Ctor();
    this.ms = ms;
    this.sb = null;
    this.url = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', () => this.onSourceOpen(ms), { once: true });
    if (this.video) this.bind(this.video);
  }

  private bind(video: HTMLVideoElement): void {
    if (!this.url) return;
    video.srcObject = null;
    (video as HTMLVideoElement & { disableRemotePlayback?: boolean }).disableRemotePlayback = true;
    video.src = this.url;
    this.bound = video;
    playVideo(video, () => this.hooks.playbackBlocked());
  }

  private dropSource(): void {
    const ms = this.ms;
    this.ms = null;
    this.sb = null;
    if (ms && ms.readyState === 'open') {
      try {
        ms.endOfStream();
      } catch {
        // already ending
      }
    }
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  private onSourceOpen(ms: MediaSource): void {
    if (ms !== this.ms || this.destroyed) return;
    let sb: SourceBuffer;
    try {
      sb = ms.addSourceBuffer(this.mimeType);
    } catch (error) {
      this.hooks.log('media-error', { peer: this.peerId, reason: 'addSourceBuffer', mimeType: this.mimeType, error: String(error) });
      return;
    }
    sb.mode = 'segments';
    sb.addEventListener('updateend', () => {
      if (sb !== this.sb) return;
      this.trim(sb);
      this.queue.pump(sb);
      this.keepLive();
    });
    sb.addEventListener('error', () => {
      if (sb === this.sb) this.rebuild('append-error', false);
    });
    this.sb = sb;
    this.queue.pump(sb);
  }

  private onAppendFailure(kind: AppendFailure, error: unknown): void {
    if (kind === 'quota') {
      // Free what was already played; the chunk stays queued for the next updateend.
      const sb = this.sb;
      const now = this.video?.currentTime ?? 0;
      if (sb && !sb.updating && sb.buffered.length > 0 && now - 2 > sb.buffered.start(0)) {
        try {
          sb.remove(sb.buffered.start(0), now - 2);
          return;
        } catch {
          // fall through to a rebuild
        }
      }
    }
    this.hooks.log('media-error', { peer: this.peerId, reason: `append-${kind}`, error: String(error) });
    this.rebuild(`append-${kind}`, false);
  }

  /** Start over on a fresh MediaSource from the cached init segment and the next Cluster. */
  private rebuild(reason: string, immediate: boolean): void {
    if (this.destroyed) return;
    const now = Date.now();
    if (!immediate && now - this.lastRebuild < MIN_REBUILD_INTERVAL_MS) {
      setTimeout(() => this.rebuild(reason, true), MIN_REBUILD_INTERVAL_MS);
      return;
    }
    this.lastRebuild = now;
    this.rebuilds += 1;
    this.appendedTotal += this.queue.appended;
    this.queue.appended = 0;
    this.hooks.log('media-rebuild', { peer: this.peerId, reason });
    this.dropSource();
    this.queue.clear();
    this.splicing = false;
    this.resyncing = false;
    if (this.head.intact && this.head.chunks.length > 0) {
      // The stream's start is still here: replay it, no wait for the next Cluster.
      for (const chunk of this.head.chunks) this.queue.push(chunk);
    } else if (this.init) {
      this.queue.push(this.init);
      this.resyncing = true;
    }
    this.createSource();
  }

  private trim(sb: SourceBuffer): void {
    const video = this.video;
    if (!video || sb.updating || sb.buffered.length === 0) return;
    const start = sb.buffered.start(0);
    const keepFrom = video.currentTime - KEEP_BEHIND_S;
    if (keepFrom - start > TRIM_EVERY_S) {
      try {
        sb.remove(start, keepFrom);
      } catch {
        // not now
      }
    }
  }

  /** Stay near the live edge: jump forward when more than ~1 s behind, and keep playing. */
  private keepLive(): void {
    const video = this.video;
    const sb = this.sb;
    if (!video || this.destroyed) return;
    if (video.error && this.url && video.src === this.url) {
      this.rebuild('video-error', false);
      return;
    }
    if (!sb) return;
    const ranges = video.buffered;
    if (ranges.length === 0) return;
    const last = ranges.length - 1;
    const end = ranges.end(last);
    const start = ranges.start(last);
    const t = video.currentTime;
    if (t < start || end - t > LIVE_EDGE_MAX_LAG_S) {
      video.currentTime = Math.max(start, end - LIVE_EDGE_TARGET_S);
    }
    if (video.paused && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) {
      playVideo(video, () => this.hooks.playbackBlocked());
    }
  }
}

/** The end of the last buffered range, or null when nothing is buffered. */
function bufferedEnd(sb: SourceBuffer): number | null {
  try {
    const ranges = sb.buffered;
    return ranges.length > 0 ? ranges.end(ranges.length - 1) : null;
  } catch {
    return null; // the SourceBuffer was removed from its MediaSource
  }
}
