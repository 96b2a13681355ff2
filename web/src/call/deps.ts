// Everything the call session reaches outside itself, injected so the session
// runs under Vitest with fakes; `browserDeps` is the real thing.

import { createLevelMeter } from '../lib/audioLevel';
import { backoffDelay } from '../lib/backoff';
import { postLog, type LogFields } from '../lib/clientlog';
import { missingFeatures } from '../lib/compat';
import { wsUrl } from '../lib/url';
import type { MediaTransportKind } from '../protocol/messages';
import { createTransport, type CreateTransport } from '../transports';
import { saveChoice, savedChoice, watchDevices } from './devices';
import { openLocalMedia, openScreen, openTrack, type DeviceChoice, type OpenedMedia } from './localMedia';
import type { MediaDeps } from './mediaControl';
import { SignalingSocket, type OpenSocket } from './socket';
import type { MeterFactory } from './speaking';

export interface SessionDeps {
  openSocket: OpenSocket;
  createTransport: CreateTransport;
  /** Microphone and camera (the camera may be missing); rejects with a LocalMediaError. */
  openLocalMedia(choice: DeviceChoice): Promise<OpenedMedia>;
  /** Devices mid-call: switching, recovering, sharing a screen. */
  media: MediaDeps;
  /** Our microphone's level, for the speaking indicator. */
  levelMeter: MeterFactory;
  /** Browser features a media mode needs and this browser lacks (empty: it can join). */
  missingFeatures(mode: MediaTransportKind): string[];
  /** Milliseconds before reconnect attempt `attempt` (0 = the first). */
  reconnectDelay(attempt: number): number;
  log(event: string, fields: LogFields): void;
}

export const browserMedia: MediaDeps = {
  openTrack,
  openScreen,
  newStream: (tracks) => new MediaStream(tracks),
  watchDevices,
  savedChoice,
  saveChoice,
};

export const browserDeps: SessionDeps = {
  openSocket: (events) => new SignalingSocket(wsUrl(window.location), events),
  createTransport,
  openLocalMedia,
  media: browserMedia,
  levelMeter: createLevelMeter,
  missingFeatures: (mode) => missingFeatures(window as never, mode),
  reconnectDelay: (attempt) => backoffDelay(attempt),
  log: postLog,
};
