// The signaling WebSocket: JSON text frames, binary media frames (ws mode),
// and the entropy keepalive while open. Reconnecting is the session's job.

import { EntropyTimer } from '../lib/entropy';
import { parseServerMessage, type ClientMessage, type ServerMessage } from '../protocol/messages';

export interface SocketEvents {
  open(): void;
  message(message: ServerMessage): void;
  binary(data: ArrayBuffer): void;
  close(code: number, reason: string): void;
}

/** What the call session needs of its socket (tests supply a fake). */
export interface SignalingLink {
  send(message: ClientMessage): void;
  sendBinary(data: Blob | ArrayBuffer | ArrayBufferView): void;
  /** Bytes queued and not yet sent. */
  bufferedAmount(): number;
  /** Close without reporting a `close` event: no event of any kind follows. */
  close(code?: number): void;
}

/** Opens the socket; `events` are reported until it closes. */
export type OpenSocket = (events: SocketEvents) => SignalingLink;

export class SignalingSocket implements SignalingLink {
  private readonly ws: WebSocket;
  private readonly entropy: EntropyTimer;
  private closed = false;

  constructor(url: string, private readonly events: SocketEvents) {
    this.entropy = new EntropyTimer((m) => this.send(m));
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.closed) return;
      this.entropy.start();
      this.events.open();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this.closed) return;
      if (typeof event.data === 'string') {
        const message = parseServerMessage(event.data);
        if (message && message.type !== 'entropy') this.events.message(message);
      } else if (event.data instanceof ArrayBuffer) {
        this.events.binary(event.data);
      }
    };
    ws.onclose = (event: CloseEvent) => {
      this.entropy.stop();
      if (this.closed) return;
      this.closed = true;
      this.events.close(event.code, event.reason);
    };
    this.ws = ws;
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  sendBinary(data: Blob | ArrayBuffer | ArrayBufferView): void {
    if (this.open) this.ws.send(data as Blob);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Close without reporting a `close` event (the caller decided to close). */
  close(code = 1000): void {
    if (this.closed) return;
    this.closed = true;
    this.entropy.stop();
    try {
      this.ws.close(code);
    } catch {
      // already closing
    }
  }
}
