// The call's own media while it runs: microphone and camera on/off, switching
// to another device without rejoining, recovering when the device in use
// disappears, and sharing a screen. Every change of a track is reported once
// through `changed(source)`: the session tells the transport (replaceTrack,
// or a new recording in ws mode) and the UI.

import type { LogFields } from '../lib/clientlog';
import { deviceOf } from './devices';
import type { DeviceChoice, DeviceKind, OpenedMedia } from './localMedia';
import { LocalTracks, type LocalSource, type NewStream } from './localTracks';
import type { CallState } from './state';

/** Something about the call's own media the person should know. */
export type MediaNotice =
  | 'camera-none-found'
  | 'camera-denied'
  | 'camera-failed'
  | 'camera-lost'
  | 'mic-lost'
  | 'device-failed'
  | 'screen-failed'
  | 'screen-taken';

export interface MediaDeps {
  openTrack(kind: DeviceKind, deviceId: string | null, exact: boolean): Promise<MediaStreamTrack>;
  /** The screen or window the person picks; rejects (NotAllowedError) if they cancel. */
  openScreen(): Promise<MediaStreamTrack>;
  newStream: NewStream;
  /** Devices plugged in or out; returns the unsubscribe. */
  watchDevices(listener: () => void): () => void;
  savedChoice(): DeviceChoice;
  saveChoice(kind: DeviceKind, deviceId: string | null): void;
}

export interface MediaHooks {
  changed(source: LocalSource): void;
  notice(notice: MediaNotice | null): void;
  log(event: string, fields?: LogFields): void;
}

const JOIN_NOTICE = {
  'none-found': 'camera-none-found',
  denied: 'camera-denied',
  failed: 'camera-failed',
} as const satisfies Record<string, MediaNotice>;

export class MediaControl {
  readonly tracks: LocalTracks;
  private readonly on: Record<DeviceKind, boolean> = { mic: true, camera: true };
  /** Devices that went away mid-call: tried again when devices change. */
  private readonly lost = new Set<DeviceKind>();
  private readonly unwatch: () => void;
  /** Device changes run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    opened: OpenedMedia,
    private readonly deps: MediaDeps,
    private readonly hooks: MediaHooks,
  ) {
    this.tracks = new LocalTracks(opened.stream, deps.newStream, (source) => this.ended(source));
    this.unwatch = deps.watchDevices(() => this.devicesChanged());
  }

  /** The notice a call starts with (why there is no camera), if any. */
  static joinNotice(opened: OpenedMedia): MediaNotice | null {
    return opened.cameraProblem ? JOIN_NOTICE[opened.cameraProblem] : null;
  }

  isOn(kind: DeviceKind): boolean {
    return this.on[kind];
  }

  /** Mute or turn off (the track keeps running, so senders and the recorder go on). */
  setOn(kind: DeviceKind, on: boolean): void {
    this.on[kind] = on;
    const track = this.tracks.get(kind);
    if (track) track.enabled = on;
  }

  /** Use another microphone or camera (also one that appeared after joining without). */
  switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    return this.serially(async () => {
      let track: MediaStreamTrack;
      try {
        track = await this.deps.openTrack(kind, deviceId, true);
      } catch (error) {
        this.hooks.log('media-error', { reason: 'switch', kind, error: String(error) });
        this.hooks.notice('device-failed');
        return;
      }
      if (this.stopped) {
        track.stop();
        return;
      }
      this.deps.saveChoice(kind, deviceId);
      this.lost.delete(kind);
      this.install(kind, track);
      this.hooks.notice(null);
    });
  }

  /** Share a screen; false if the person cancelled or it failed. */
  async startScreen(): Promise<boolean> {
    let track: MediaStreamTrack;
    try {
      track = await this.deps.openScreen();
    } catch (error) {
      const cancelled = (error as { name?: string }).name === 'NotAllowedError';
      if (!cancelled) {
        this.hooks.log('media-error', { reason: 'getDisplayMedia', error: String(error) });
        this.hooks.notice('screen-failed');
      }
      return false;
    }
    if (this.stopped) {
      track.stop();
      return false;
    }
    this.tracks.replace('screen', track);
    this.hooks.changed('screen');
    return true;
  }

  /** Our media as the call state shows it; `withScreen`: also a new stream of the screen. */
  snapshot(withScreen: boolean): Partial<CallState> {
    const { mic, camera, screen, stream } = this.tracks;
    const patch: Partial<CallState> = {
      localStream: stream,
      hasMic: mic !== null,
      hasCamera: camera !== null,
      micOn: this.on.mic,
      camOn: this.on.camera,
      micDevice: deviceOf(mic),
      cameraDevice: deviceOf(camera),
    };
    if (withScreen) patch.screenStream = screen ? this.deps.newStream([screen]) : null;
    return patch;
  }

  stopScreen(): void {
    if (!this.tracks.screen) return;
    this.tracks.replace('screen', null);
    this.hooks.changed('screen');
  }

  stop(): void {
    this.stopped = true;
    this.unwatch();
    this.tracks.stop();
  }

  private install(kind: DeviceKind, track: MediaStreamTrack | null): void {
    if (track) track.enabled = this.on[kind];
    this.tracks.replace(kind, track);
    this.hooks.changed(kind);
  }

  /** A track ended by itself: a device unplugged, or the browser's "stop sharing". */
  private ended(source: LocalSource): void {
    if (this.stopped) return;
    if (source === 'screen') {
      this.stopScreen();
      return;
    }
    this.hooks.log('media-device-lost', { kind: source });
    this.install(source, null);
    this.lost.add(source);
    void this.recover(source);
  }

  /** Take the remembered device, or any other of that kind; else wait for a device change. */
  private recover(kind: DeviceKind): Promise<void> {
    return this.serially(async () => {
      if (this.stopped || !this.lost.has(kind) || this.tracks.get(kind)) return;
      try {
        const track = await this.deps.openTrack(kind, this.deps.savedChoice()[kind], false);
        if (this.stopped || this.tracks.get(kind)) {
          track.stop();
          return;
        }
        this.lost.delete(kind);
        this.install(kind, track);
        this.hooks.log('media-device-recovered', { kind });
        this.hooks.notice(null);
      } catch {
        this.hooks.notice(kind === 'mic' ? 'mic-lost' : 'camera-lost');
      }
    });
  }

  private devicesChanged(): void {
    for (const kind of this.lost) void this.recover(kind);
  }

  private serially(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task, task);
    return this.chain;
  }
}
