// WS-mode publishing: MediaRecorder chunks sent as binary frames after a
// `media-start`. A chunk is never dropped (that would corrupt the WebM stream);
// when the socket stays congested the recorder is restarted instead, and the
// new stream begins with a new `media-start` once the backlog has drained.
// `media-keyframe` from the server restarts it too: a new recording starts with
// a keyframe, and Firefox's recorder ignores videoKeyFrameIntervalDuration.
// A change of track (another device, a shared screen recorded instead of the
// camera) also starts a new recording: MediaRecorder cannot switch tracks.
// Both let the old recording's last chunk out first, so viewers that splice
// the new stream onto the old one (player.ts) lose no picture.

import type { LocalTracksView } from '../../call/localTracks';
import { classifyBacklog, type Quality } from '../quality';
import type { TransportHost } from '../types';

export const TIMESLICE_MS = 200;
export const KEYFRAME_INTERVAL_MS = 1000;
/** bufferedAmount above this counts as congestion… */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** …and when it lasts this long, the recorder restarts… */
export const CONGESTION_RESTART_MS = 2500;
/** …as soon as the backlog is below this. */
export const LOW_WATER_BYTES = 64 * 1024;
/** At most one keyframe restart this often (the server also rate-limits its requests). */
export const KEYFRAME_RESTART_MIN_MS = 1000;
/** The longest wait for a stopped recorder's last chunk before recording anew regardless. */
export const FINAL_CHUNK_WAIT_MS = 300;

const VIDEO_TYPES = [
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs="vp8,opus"',
  'video/webm;codecs="vp9,opus"',
];
const AUDIO_TYPES = ['audio/webm;codecs=opus', 'audio/webm'];
// A picture without sound: the microphone went away mid-call.
const SILENT_VIDEO_TYPES = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'];

export function chooseMimeType(
  hasVideo: boolean,
  isTypeSupported: (type: string) => boolean,
  hasAudio = true,
): string | null {
  const types = hasVideo ? (hasAudio ? VIDEO_TYPES : SILENT_VIDEO_TYPES) : AUDIO_TYPES;
  for (const type of types) {
    if (isTypeSupported(type)) return type;
  }
  return null;
}

/** Decides when congestion is sustained; pure so it can be tested without a socket. */
export class CongestionMonitor {
  private since: number | null = null;

  constructor(
    private readonly highWater = HIGH_WATER_BYTES,
    private readonly restartAfterMs = CONGESTION_RESTART_MS,
  ) {}

  /** Feed the current backlog; true when the recorder should restart now. */
  update(buffered: number, now: number): boolean {
    if (buffered <= this.highWater) {
      this.since = null;
      return false;
    }
    if (this.since === null) this.since = now;
    if (now - this.since >= this.restartAfterMs) {
      this.since = null;
      return true;
    }
    return false;
  }
}

type RecorderOptions = MediaRecorderOptions & { videoKeyFrameIntervalDuration?: number };

/** What is recorded: the microphone, and the shared screen instead of the camera while there is one. */
export function recordedTracks(local: LocalTracksView): MediaStreamTrack[] {
  const video = local.screen ?? local.camera;
  return [local.mic, video].filter((t): t is MediaStreamTrack => t !== null);
}

export class WsPublisher {
  private recorder: MediaRecorder | null = null;
  private generation = 0;
  private readonly monitor = new CongestionMonitor();
  private watch: ReturnType<typeof setInterval> | null = null;
  private draining = false;
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  mimeType: string | null = null;
  restarts = 0;
  keyframeRestarts = 0;
  private lastKeyframeRestart = -Infinity;
  chunksSent = 0;

  constructor(private readonly host: TransportHost) {}

  start(): void {
    this.stopped = false;
    this.startRecorder();
    this.watch = setInterval(() => this.checkCongestion(), 250);
  }

  /** Stop recording; `announce` sends `media-stop` (the user left, the socket stays up). */
  stop(announce: boolean): void {
    this.stopped = true;
    if (this.watch !== null) clearInterval(this.watch);
    if (this.retry !== null) clearTimeout(this.retry);
    this.watch = null;
    this.retry = null;
    this.stopRecorder();
    if (announce && this.mimeType) this.host.send({ type: 'media-stop' });
  }

  /** The server asks for a keyframe (a viewer waits for one): record anew. */
  requestKeyframe(now = Date.now()): void {
    if (this.stopped || this.draining || !this.recorder) return;
    if (now - this.lastKeyframeRestart < KEYFRAME_RESTART_MIN_MS) return;
    this.lastKeyframeRestart = now;
    this.keyframeRestarts += 1;
    this.recordAnew();
  }

  /** The tracks changed: record them anew (after the backlog drains, if it is draining). */
  restart(): void {
    if (this.stopped || this.draining) return;
    this.recordAnew();
  }

  /** Our uplink as the socket's backlog shows it; poor while a congestion restart drains. */
  quality(): Quality {
    return this.draining ? 'poor' : classifyBacklog(this.host.bufferedAmount());
  }

  private startRecorder(): void {
    if (this.stopped) return;
    const tracks = recordedTracks(this.host.local);
    if (tracks.length === 0) {
      // Nothing to record (the microphone went away, no camera): stop publishing until there is.
      if (this.mimeType) this.host.send({ type: 'media-stop' });
      this.mimeType = null;
      return;
    }
    const stream = new MediaStream(tracks);
    const hasVideo = tracks.some((t) => t.kind === 'video');
    const hasAudio = tracks.some((t) => t.kind === 'audio');
    const mimeType = chooseMimeType(hasVideo, (t) => MediaRecorder.isTypeSupported(t), hasAudio);
    if (!mimeType) {
      this.host.log('media-error', { reason: 'no supported MediaRecorder type' });
      return;
    }
    const options: RecorderOptions = {
      mimeType,
      audioBitsPerSecond: 48_000,
      // A screen is larger than a camera picture and its text must stay legible.
      videoBitsPerSecond: hasVideo ? (this.host.local.screen ? 1_200_000 : 600_000) : undefined,
      videoKeyFrameIntervalDuration: KEYFRAME_INTERVAL_MS,
    };
    let recorder: MediaRecorder;
    try {
      recorder = new MediaRecorder(stream, options);
    } catch (error) {
      this.host.log('media-error', { reason: 'MediaRecorder', error: String(error) });
      this.scheduleRetry();
      return;
    }
    const generation = ++this.generation;
    recorder.ondataavailable = (event: BlobEvent) => {
      // Chunks of a replaced recorder would corrupt the new stream: ignore them.
      if (generation !== this.generation || this.stopped || event.data.size === 0) return;
      this.host.sendBinary(event.data);
      this.chunksSent += 1;
    };
    recorder.onerror = (event: Event) => {
      if (generation !== this.generation) return;
      this.host.log('media-error', { reason: 'recorder error', error: String((event as ErrorEvent).error ?? event.type) });
      this.stopRecorder();
      this.scheduleRetry();
    };
    this.recorder = recorder;
    this.mimeType = mimeType;
    this.host.send({ type: 'media-start', mimeType });
    recorder.start(TIMESLICE_MS);
  }

  private stopRecorder(): void {
    this.generation += 1;
    const recorder = this.recorder;
    this.recorder = null;
    if (recorder && recorder.state !== 'inactive') {
      try {
        recorder.stop();
      } catch {
        // already stopped
      }
    }
  }

  /**
   * Stop the recording and start the next one once the old one's last chunk is
   * sent (its `stop` event follows that chunk within milliseconds), so the two
   * streams meet without a gap: the viewer's timeline goes on where the old one
   * ended. Meanwhile `recorder` is null, so nothing else restarts it.
   */
  private recordAnew(): void {
    const old = this.recorder;
    if (!old || old.state === 'inactive') {
      this.stopRecorder();
      this.startRecorder();
      return;
    }
    this.recorder = null; // the generation stays: the old recorder's last chunk still goes out
    const generation = this.generation;
    let done = false;
    const next = () => {
      if (done) return;
      done = true;
      // Not if stopped, restarted or failed meanwhile (any of which moved the generation on).
      if (generation === this.generation) this.startRecorder();
    };
    old.addEventListener('stop', next, { once: true });
    setTimeout(next, FINAL_CHUNK_WAIT_MS);
    try {
      old.stop();
    } catch {
      next();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry !== null) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.startRecorder();
    }, 1000);
  }

  private checkCongestion(): void {
    if (this.stopped) return;
    const buffered = this.host.bufferedAmount();
    if (this.draining) {
      if (buffered <= LOW_WATER_BYTES) {
        this.draining = false;
        this.startRecorder();
      }
      return;
    }
    if (this.recorder && this.monitor.update(buffered, Date.now())) {
      this.restarts += 1;
      this.host.log('media-congestion-restart', { buffered });
      this.stopRecorder();
      this.draining = true;
    }
  }
}
