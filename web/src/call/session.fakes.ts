// Fakes for the call session's tests: a socket the test plays the server
// through, a transport that records what it is given, a camera stream, and a
// session wired to them (the real dependencies are in deps.ts).

import type { LogFields } from '../lib/clientlog';
import type { ClientMessage, MediaTransportKind, Peer, ServerMessage, Welcome } from '../protocol/messages';
import type { Transport, TransportDebug, TransportHost } from '../transports/types';
import type { SessionDeps } from './deps';
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

  async debug(): Promise<TransportDebug> {
    return { kind: this.kind, peers: {} };
  }

  close(leaving: boolean): void {
    this.closed ??= leaving;
  }
}

interface FakeTrack {
  kind: 'audio' | 'video';
  enabled: boolean;
  stopped: boolean;
  stop(): void;
}

export function fakeStream(kinds: ('audio' | 'video')[] = ['audio', 'video']) {
  const tracks = kinds.map(
    (kind): FakeTrack => ({
      kind,
      enabled: true,
      stopped: false,
      stop() {
        this.stopped = true;
      },
    }),
  );
  const stream = {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
  };
  return { stream: stream as unknown as MediaStream, tracks };
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
    openLocalMedia: async () => media.stream,
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
  return { session, sockets, transports, logs, events, attempts, joinedPeers, media, lastSocket, lastTransport };
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
