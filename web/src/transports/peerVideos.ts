// The one owner of participant id → <video>. The UI mounts and unmounts tiles
// (`set`); transports show streams (`show`/`clear`, webrtc and sfu) or follow
// the elements themselves (`watch`, ws: a MediaSource binds to one element).
// It lives as long as the call screen, across reconnects and transports, and
// remembers each shown stream so a remounted tile plays it again.
// A key is a participant id, or `screenKey(id)` for the screen that
// participant shares (webrtc and sfu: a track of its own).

import { clearVideo, setStream } from './playback';
import type { RemoteVideos } from './types';

/** The key of the screen a participant shares, apart from its camera. */
export function screenKey(peerId: string): string {
  return `${peerId}#screen`;
}

type Listener = (peerId: string, video: HTMLVideoElement | null) => void;

export class PeerVideos implements RemoteVideos {
  private readonly videos = new Map<string, HTMLVideoElement>();
  private readonly streams = new Map<string, MediaStream>();
  private readonly listeners = new Set<Listener>();

  /** `blocked` is told when autoplay policy refuses to play an element. */
  constructor(private readonly blocked: () => void) {}

  /** A tile's element mounted (element) or unmounted (null): the UI's ref callback. */
  set(peerId: string, video: HTMLVideoElement | null): void {
    if (video) {
      this.videos.set(peerId, video);
      const stream = this.streams.get(peerId);
      if (stream) setStream(video, stream, this.blocked);
    } else {
      this.videos.delete(peerId);
    }
    for (const listener of this.listeners) listener(peerId, video);
  }

  get(peerId: string): HTMLVideoElement | null {
    return this.videos.get(peerId) ?? null;
  }

  show(peerId: string, stream: MediaStream): void {
    this.streams.set(peerId, stream);
    const video = this.videos.get(peerId);
    if (video) setStream(video, stream, this.blocked);
  }

  clear(peerId: string): void {
    this.streams.delete(peerId);
    const video = this.videos.get(peerId);
    if (video) clearVideo(video);
  }

  watch(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Retry every element after a user gesture (the "enable sound" tap). */
  playAll(): void {
    for (const video of this.videos.values()) void video.play().catch(() => undefined);
  }
}
