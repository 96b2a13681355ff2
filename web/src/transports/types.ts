// The one interface the UI uses for every media mode. A transport lives for one
// signaling session (one `welcome`); a reconnect gets a fresh instance.

import type { LogFields } from '../lib/clientlog';
import type { ClientMessage, MediaTransportKind, ServerMessage, Welcome } from '../protocol/messages';

/** What a transport may use from the call it runs in. */
export interface TransportHost {
  readonly localStream: MediaStream;
  send(message: ClientMessage): void;
  sendBinary(data: Blob | ArrayBuffer | ArrayBufferView): void;
  /** Bytes queued in the WebSocket and not yet sent. */
  bufferedAmount(): number;
  log(event: string, fields?: LogFields): void;
  /** A remote <video> refused to play (autoplay policy): the UI offers a tap to resume. */
  playbackBlocked(): void;
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
  rebuilds?: number;
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
  /** Binary frames (ws mode only). */
  handleBinary(data: ArrayBuffer): void;
  /** The UI's <video> for a peer appeared (element) or went away (null). */
  attach(peerId: string, video: HTMLVideoElement | null): void;
  debug(): Promise<TransportDebug>;
  /** Stop everything; `leaving` means the user left (tell the server), not a dropped socket. */
  close(leaving: boolean): void;
}

export type TransportFactory = (host: TransportHost, selfId: string) => Transport;
