// The one interface the call uses for every media mode. A transport lives for one
// signaling session (one `welcome`); a reconnect gets a fresh instance.

import type { LocalSource, LocalTracksView } from '../call/localTracks';
import type { LogFields } from '../lib/clientlog';
import type { ClientMessage, MediaTransportKind, ServerMessage, Welcome } from '../protocol/messages';
import type { QualityReport } from './quality';

/**
 * Where remote media is shown: the one owner of participant id → `<video>`
 * (implemented by `PeerVideos`). It outlives transports, so a reconnect's new
 * transport finds the tiles that are already on screen.
 */
export interface RemoteVideos {
  /** The element of a participant's tile, while it is mounted. */
  get(peerId: string): HTMLVideoElement | null;
  /** Show a participant's stream now, and again whenever the tile is remounted. */
  show(peerId: string, stream: MediaStream): void;
  /** Stop showing a participant's stream (its tile goes blank). */
  clear(peerId: string): void;
  /** Follow tiles mounting (element) and unmounting (null); returns the unsubscribe. */
  watch(listener: (peerId: string, video: HTMLVideoElement | null) => void): () => void;
}

/** What a transport may use from the call it runs in. */
export interface TransportHost {
  /** Our microphone, camera and shared screen: always the current tracks. */
  readonly local: LocalTracksView;
  readonly videos: RemoteVideos;
  send(message: ClientMessage): void;
  sendBinary(data: Blob | ArrayBuffer | ArrayBufferView): void;
  /** Bytes queued in the WebSocket and not yet sent. */
  bufferedAmount(): number;
  log(event: string, fields?: LogFields): void;
  /** A remote <video> refused to play (autoplay policy): the UI offers a tap to resume. */
  playbackBlocked(): void;
  /** The PeerVideos keys whose video the server holds back for our bandwidth (sfu), the
   * whole set each time it changes; [] when everything plays. */
  videosPaused(keys: string[]): void;
  /** The media path is broken beyond repair (e.g. the SFU connection failed; aiortc
   * cannot restart ICE): rejoin the room with a new socket and a new transport. */
  rejoin(reason: string): void;
}

export interface PeerMediaDebug {
  /** inbound RTP audio packets (webrtc / sfu). */
  audioPacketsReceived?: number;
  /** inbound RTP video frames decoded (webrtc / sfu). */
  videoFramesDecoded?: number;
  /** bytes appended to the peer's SourceBuffer (ws). */
  bytesAppended?: number;
  mimeType?: string;
  /** ws: times the peer's MediaSource started over (errors, a new stream that could not be spliced). */
  rebuilds?: number;
  /** ws: new streams of the peer continued on its running MediaSource. */
  splices?: number;
  connectionState?: string;
}

export interface TransportDebug {
  kind: MediaTransportKind;
  peers: Record<string, PeerMediaDebug>;
  [extra: string]: unknown;
}

export interface Transport {
  readonly kind: MediaTransportKind;
  /** Begin publishing and receiving for this `welcome`. */
  start(welcome: Welcome): void;
  /** Every server message after `welcome` (including peer-joined / peer-left). */
  handleMessage(message: ServerMessage): void;
  /** Binary frames from the socket: only a transport that carries media over the
   * signaling WebSocket (ws) has this; the others never receive binary. */
  handleBinary?(data: ArrayBuffer): void;
  /** A local track changed (another device, one lost, a screen shared or not): send
   * `host.local`'s current one instead, without rejoining. */
  localTrackChanged(source: LocalSource): void;
  /** Our link's quality and each remote participant's, as far as this transport knows. */
  quality(): Promise<QualityReport>;
  debug(): Promise<TransportDebug>;
  /** Stop everything; `leaving` means the user left (tell the server), not a dropped socket. */
  close(leaving: boolean): void;
}

export type CreateTransport = (kind: MediaTransportKind, host: TransportHost, selfId: string) => Transport;
