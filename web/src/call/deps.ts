// Everything the call session reaches outside itself, injected so the session
// runs under Vitest with fakes; `browserDeps` is the real thing.

import { backoffDelay } from '../lib/backoff';
import { postLog, type LogFields } from '../lib/clientlog';
import { missingFeatures } from '../lib/compat';
import { wsUrl } from '../lib/url';
import type { MediaTransportKind } from '../protocol/messages';
import { createTransport, type CreateTransport } from '../transports';
import { openLocalMedia } from './localMedia';
import { SignalingSocket, type OpenSocket } from './socket';

export interface SessionDeps {
  openSocket: OpenSocket;
  createTransport: CreateTransport;
  /** Camera and microphone; rejects with a LocalMediaError. */
  openLocalMedia(): Promise<MediaStream>;
  /** Browser features a media mode needs and this browser lacks (empty: it can join). */
  missingFeatures(mode: MediaTransportKind): string[];
  /** Milliseconds before reconnect attempt `attempt` (0 = the first). */
  reconnectDelay(attempt: number): number;
  log(event: string, fields: LogFields): void;
}

export const browserDeps: SessionDeps = {
  openSocket: (events) => new SignalingSocket(wsUrl(window.location), events),
  createTransport,
  openLocalMedia,
  missingFeatures: (mode) => missingFeatures(window as never, mode),
  reconnectDelay: (attempt) => backoffDelay(attempt),
  log: postLog,
};
