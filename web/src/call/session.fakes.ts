// Fakes for the call session's tests: a socket the test plays the server
// through, a transport that records what it is given, camera, microphone and
// screen tracks, a level meter, and a session wired to them (the real
// dependencies are in deps.ts).

import type { LogFields } from '../lib/clientlog';
import type { ClientMessage, MediaTransportKind, Peer, ServerMessage, Welcome } from '../protocol/messages';
import type { QualityReport } from '../transports/quality';
import type { Transport, TransportDebug, TransportHost } from '../transports/types';
import type { SessionDeps } from './deps';
import type { DeviceChoice, DeviceKind, OpenedMedia } from './localMedia';
import type { LocalSource } from './localTracks';
import type { MediaDeps } from './mediaControl';
import { CallSession } from './session';
import type { SignalingLink, SocketEvents } from './socket';

export class FakeSocket implements SignalingLink {
  readonly sent: ClientMessage[] = [];
  readonly binary: unknown[] = [];
  closedWith: number | null = null;

  constructor(private readonly events: SocketEvents) {}

  send(message: ClientMessage): void {
    if (this.closedWith === null) this.sent.push(message);
  }

  sendBinary(data: Blob | ArrayBuffer | ArrayBufferView): void {
    this.binary.push(data);
  }

  bufferedAmount(): number {
    return 0;
  }

  close(code = 1000): void {
    this.closedWith ??= code;
  }

  // --- the server's side ---
  open(): void {
    this.events.open();
  }

  receive(message: ServerMessage): void {
    this.events.message(message);
  }

  receiveBinary(data: ArrayBuffer): void {
    this.events.binary(data);
  }

  drop(code: number, reason = ''): void {
    this.closedWith ??= code;
    this.events.close(code, reason);
  }
}

export class FakeTransport implements Transport {
  welcome: Welcome | null = null;
  readonly messages: ServerMessage[] = [];
  readonly frames: ArrayBuffer[] = [];
  /** null while open; then whether the user left. */
  closed: boolean | null = null;
  /** Each localTrackChanged, with the track `host.local` held for it then. */
  readonly changes: { source: LocalSource; track: MediaStreamTrack | null }[] = [];
  report: QualityReport = { own: null, peers: {} };

  constructor(
    readonly kind: MediaTransportKind,
    readonly host: TransportHost,
    readonly selfId: string,
  ) {}

  start(welcome: Welcome): void {
    this.welcome = welcome;
  }

  handleMessage(message: ServerMessage): void {
    this.messages.push(message);
  }

  handleBinary(data: ArrayBuffer): void {
    this.frames.push(data);
  }

  localTrackChanged(source: LocalSource): void {
    this.changes.push({ source, track: this.host.local[source] });
  }

  async quality(): Promise<QualityReport> {
    return this.report;
  }

  async debug(): Promise<TransportDebug> {
    return { kind: this.kind, peers: {} };
  }

  close(leaving: boolean): void {
    this.closed ??= leaving;
  }
}

export interface FakeTrack {
  kind: 'audio' | 'video';
  /** Which device it came from (getSettings().deviceId). */
  device: string;
  enabled: boolean;
  stopped: boolean;
  onended: (() => void) | null;
  stop(): void;
  getSettings(): { deviceId: string };
  /** The device went away (or the browser's "stop sharing"): stopped, then `ended`. */
  end(): void;
}

export function fakeTrack(kind: 'audio' | 'video', device = `${kind}-0`): FakeTrack {
  return {
    kind,
    device,
    enabled: true,
    stopped: false,
    onended: null,
    stop() {
      this.stopped = true;
    },
    getSettings() {
      return { deviceId: this.device };
    },
    end() {
      this.stopped = true;
      this.onended?.();
    },
  };
}

export function streamOf(tracks: FakeTrack[]): MediaStream {
  const stream = {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
  };
  return stream as unknown as MediaStream;
}

export function fakeStream(kinds: ('audio' | 'video')[] = ['audio', 'video']) {
  const tracks = kinds.map((kind) => fakeTrack(kind));
  return { stream: streamOf(tracks), tracks };
}

export function opened(stream: MediaStream, cameraProblem: OpenedMedia['cameraProblem'] = null): OpenedMedia {
  return { stream, cameraProblem };
}

/** Devices for the session: every track it opens, the device-change listener, saved choices. */
export class FakeDevices implements MediaDeps {
  readonly opened: { kind: DeviceKind; deviceId: string | null; exact: boolean; track: FakeTrack }[] = [];
  readonly screens: FakeTrack[] = [];
  readonly saved: DeviceChoice = { mic: null, camera: null };
  /** Kinds whose devices are all gone: opening one fails. */
  readonly missing = new Set<DeviceKind>();
  /** Set to make the next openScreen fail with this error name (NotAllowedError: cancelled). */
  screenError: string | null = null;
  private listener: (() => void) | null = null;

  openTrack = async (kind: DeviceKind, deviceId: string | null, exact: boolean): Promise<MediaStreamTrack> => {
    if (this.missing.has(kind)) throw Object.assign(new Error('gone'), { name: 'NotFoundError' });
    const track = fakeTrack(kind === 'mic' ? 'audio' : 'video', deviceId ?? `${kind}-default`);
    this.opened.push({ kind, deviceId, exact, track });
    return track as unknown as MediaStreamTrack;
  };

  openScreen = async (): Promise<MediaStreamTrack> => {
    if (this.screenError) throw Object.assign(new Error('no'), { name: this.screenError });
    const track = fakeTrack('video', 'screen');
    this.screens.push(track);
    return track as unknown as MediaStreamTrack;
  };

  newStream = (tracks: MediaStreamTrack[]): MediaStream => streamOf(tracks as unknown as FakeTrack[]);

  watchDevices = (listener: () => void): (() => void) => {
    this.listener = listener;
    return () => (this.listener = null);
  };

  savedChoice = (): DeviceChoice => ({ ...this.saved });

  saveChoice = (kind: DeviceKind, deviceId: string | null): void => {
    this.saved[kind] = deviceId;
  };

  /** A device was plugged in or out. */
  change(): void {
    this.listener?.();
  }
}

export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function welcome(id: string, participants: Peer[] = [], mode: MediaTransportKind | null = 'ws'): Welcome {
  return { type: 'welcome', id, participants, iceServers: [], iceTransportPolicy: 'all', mediaTransport: mode, mediaPeers: [] };
}

export const BOB: Peer = { id: 'bob', name: 'Bob' };

export function setup(overrides: Partial<SessionDeps> = {}) {
  const sockets: FakeSocket[] = [];
  const transports: FakeTransport[] = [];
  const logs: { event: string; fields: LogFields }[] = [];
  const attempts: number[] = [];
  const joinedPeers: Peer[] = [];
  const media = fakeStream();
  const devices = new FakeDevices();
  const meter = { level: 0, closed: 0 };
  const deps: SessionDeps = {
    openSocket: (events) => {
      const socket = new FakeSocket(events);
      sockets.push(socket);
      return socket;
    },
    createTransport: (kind, host, selfId) => {
      const transport = new FakeTransport(kind, host, selfId);
      transports.push(transport);
      return transport;
    },
    openLocalMedia: async () => opened(media.stream),
    media: devices,
    levelMeter: () => ({
      level: () => meter.level,
      close: () => {
        meter.closed += 1;
      },
    }),
    missingFeatures: () => [],
    // 1 s, 2 s, 3 s …: deterministic instead of jittered.
    reconnectDelay: (attempt) => {
      attempts.push(attempt);
      return 1000 * (attempt + 1);
    },
    log: (event, fields) => logs.push({ event, fields }),
    ...overrides,
  };
  const session = new CallSession({ configuredMode: () => 'ws', onPeerJoined: (p) => joinedPeers.push(p) }, deps);
  const events = () => logs.map((l) => l.event);
  const lastSocket = () => sockets[sockets.length - 1];
  const lastTransport = () => transports[transports.length - 1];
  return {
    session,
    sockets,
    transports,
    logs,
    events,
    attempts,
    joinedPeers,
    media,
    devices,
    meter,
    lastSocket,
    lastTransport,
  };
}

export type Ctx = ReturnType<typeof setup>;

/** Join as Alice and get to in-call with Bob already in the room. */
export async function inCall(ctx: Ctx, id = 'me'): Promise<FakeSocket> {
  await ctx.session.join('Alice');
  const socket = ctx.lastSocket();
  socket.open();
  socket.receive(welcome(id, [BOB]));
  return socket;
}
