// The local tracks of a call: microphone, camera, and a shared screen. Each
// slot holds at most one track; replacing one stops the old track (unless it
// is the same) and follows the new one's `ended` (a device unplugged, the
// browser's own "stop sharing" bar). `stream` is the microphone and camera
// together, a new MediaStream on every change so the UI sees the change.

export type LocalSource = 'mic' | 'camera' | 'screen';

/** What transports read: the current tracks, never kept across a change. */
export interface LocalTracksView {
  readonly mic: MediaStreamTrack | null;
  readonly camera: MediaStreamTrack | null;
  readonly screen: MediaStreamTrack | null;
  /** Microphone and camera together (the local tile, ws recording). */
  readonly stream: MediaStream;
}

export type NewStream = (tracks: MediaStreamTrack[]) => MediaStream;

export class LocalTracks implements LocalTracksView {
  private readonly tracks: Record<LocalSource, MediaStreamTrack | null> = { mic: null, camera: null, screen: null };
  private current: MediaStream;

  constructor(
    initial: MediaStream,
    private readonly newStream: NewStream,
    private readonly ended: (source: LocalSource) => void,
  ) {
    this.current = initial;
    this.follow('mic', initial.getAudioTracks()[0] ?? null);
    this.follow('camera', initial.getVideoTracks()[0] ?? null);
  }

  get mic(): MediaStreamTrack | null {
    return this.tracks.mic;
  }

  get camera(): MediaStreamTrack | null {
    return this.tracks.camera;
  }

  get screen(): MediaStreamTrack | null {
    return this.tracks.screen;
  }

  get stream(): MediaStream {
    return this.current;
  }

  get(source: LocalSource): MediaStreamTrack | null {
    return this.tracks[source];
  }

  /** Put `track` in the slot (null empties it); the old track is stopped. */
  replace(source: LocalSource, track: MediaStreamTrack | null): void {
    const old = this.tracks[source];
    if (old === track) return;
    if (old) {
      old.onended = null;
      old.stop();
    }
    this.follow(source, track);
    if (source !== 'screen') {
      const { mic, camera } = this.tracks;
      this.current = this.newStream([mic, camera].filter((t): t is MediaStreamTrack => t !== null));
    }
  }

  stop(): void {
    for (const source of ['mic', 'camera', 'screen'] as const) {
      const track = this.tracks[source];
      if (track) {
        track.onended = null;
        track.stop();
      }
      this.tracks[source] = null;
    }
  }

  private follow(source: LocalSource, track: MediaStreamTrack | null): void {
    this.tracks[source] = track;
    if (!track) return;
    track.onended = () => {
      if (this.tracks[source] === track) this.ended(source);
    };
  }
}
