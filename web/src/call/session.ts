// One call from "Join" to "Leave": local media, the signaling socket with
// reconnects, the room roster, and the transport for the server's media mode.
// Plain TypeScript with a subscribe/snapshot API (React reads it through
// useSyncExternalStore in hooks/useCall.ts).

import { backoffDelay } from '../lib/backoff';
import { postLog, type LogFields } from '../lib/clientlog';
import { missingFeatures } from '../lib/compat';
import { IN_CALL_KEY, local, NAME_KEY, session as sessionStore } from '../lib/storage';
import { wsUrl } from '../lib/url';
import { cleanName, type MediaTransportKind, type Peer, type ServerMessage, type Welcome } from '../protocol/messages';
import { createTransport, type Transport, type TransportDebug } from '../transports';
import { LocalMediaError, openLocalMedia, stopStream } from './localMedia';
import { SignalingSocket } from './socket';

export type Phase = 'idle' | 'starting' | 'connecting' | 'in-call' | 'reconnecting';

export type CallError =
  | { kind: 'server'; message: string }
  | { kind: 'media-denied' }
  | { kind: 'media-failed' }
  | { kind: 'unsupported'; missing: string[]; mode: MediaTransportKind }
  | { kind: 'disconnected' };

export interface CallState {
  phase: Phase;
  selfId: string | null;
  mode: MediaTransportKind | null;
  participants: Peer[];
  localStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  /** Seconds until the next reconnect attempt, while reconnecting. */
  reconnectIn: number | null;
  reconnected: boolean;
  error: CallError | null;
  playbackBlocked: boolean;
}

export interface SessionOptions {
  /** The mode /config announced (used until `welcome` says otherwise). */
  configuredMode: () => MediaTransportKind | null;
  onPeerJoined?: (peer: Peer) => void;
}

const INITIAL: CallState = {
  phase: 'idle',
  selfId: null,
  mode: null,
  participants: [],
  localStream: null,
  micOn: true,
  camOn: true,
  reconnectIn: null,
  reconnected: false,
  error: null,
  playbackBlocked: false,
};

/** How long a server notice stays on the call screen. */
const ERROR_VISIBLE_MS = 10_000;

/** WebSocket close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set([1008]);

export class CallSession {
  private state: CallState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private socket: SignalingSocket | null = null;
  private transport: Transport | null = null;
  private readonly videos = new Map<string, HTMLVideoElement>();
  private name = '';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private countdown: ReturnType<typeof setInterval> | null = null;
  private lastServerError: string | null = null;
  private everJoined = false;
  private errorTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: SessionOptions) {}

  // --- store API -----------------------------------------------------------
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): CallState => this.state;

  private update(patch: Partial<CallState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private phaseNow(): Phase {
    return this.state.phase;
  }

  // --- user actions --------------------------------------------------------
  async join(rawName: string): Promise<void> {
    const name = cleanName(rawName);
    if (!name || this.state.phase !== 'idle') return;
    this.name = name;
    local.set(NAME_KEY, name);
    this.update({ ...INITIAL, phase: 'starting' });
    let stream: MediaStream;
    try {
      stream = await openLocalMedia();
    } catch (error) {
      const kind = error instanceof LocalMediaError ? error.kind : 'failed';
      this.log('media-error', { reason: 'getUserMedia', kind, error: String(error) });
      this.update({ phase: 'idle', error: { kind: kind === 'denied' ? 'media-denied' : 'media-failed' } });
      return;
    }
    if (this.phaseNow() !== 'starting') {
      stopStream(stream); // left while the permission prompt was open
      return;
    }
    this.update({ localStream: stream, camOn: stream.getVideoTracks().length > 0 });
    this.log('join', { mode: this.options.configuredMode() ?? 'unknown', video: stream.getVideoTracks().length > 0 });
    this.everJoined = false;
    this.attempt = 0;
    this.connect();
  }

  leave(): void {
    if (this.state.phase === 'idle') return;
    this.log('leave', { id: this.state.selfId ?? '' });
    sessionStore.set(IN_CALL_KEY, null);
    this.clearReconnect();
    this.transport?.close(true);
    this.transport = null;
    this.socket?.close(1000);
    this.socket = null;
    stopStream(this.state.localStream);
    this.update({ ...INITIAL });
  }

  toggleMic(): void {
    const stream = this.state.localStream;
    if (!stream) return;
    const on = !this.state.micOn;
    stream.getAudioTracks().forEach((t) => (t.enabled = on));
    this.update({ micOn: on });
  }

  toggleCamera(): void {
    const stream = this.state.localStream;
    if (!stream || stream.getVideoTracks().length === 0) return;
    const on = !this.state.camOn;
    // Disabling (not stopping) keeps the recorder / senders running: remote
    // tiles go black while the stream itself stays intact.
    stream.getVideoTracks().forEach((t) => (t.enabled = on));
    this.update({ camOn: on });
  }

  dismissError(): void {
    this.update({ error: null });
  }

  attachVideo(peerId: string, video: HTMLVideoElement | null): void {
    if (video) this.videos.set(peerId, video);
    else this.videos.delete(peerId);
    this.transport?.attach(peerId, video);
  }

  resumePlayback(): void {
    for (const video of this.videos.values()) void video.play().catch(() => undefined);
    this.update({ playbackBlocked: false });
  }

  async debug(): Promise<TransportDebug | null> {
    return this.transport ? this.transport.debug() : null;
  }

  // --- connection ----------------------------------------------------------
  private connect(): void {
    this.lastServerError = null;
    this.update({ phase: this.everJoined ? 'reconnecting' : 'connecting', reconnectIn: null });
    this.socket = new SignalingSocket(wsUrl(window.location), {
      open: () => this.socket?.send({ type: 'join', name: this.name }),
      message: (message) => this.onMessage(message),
      binary: (data) => this.transport?.handleBinary(data),
      close: (code, reason) => this.onClose(code, reason),
    });
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.onWelcome(message);
        return;
      case 'peer-joined': {
        const peer = message.peer;
        const others = this.state.participants.filter((p) => p.id !== peer.id);
        this.update({ participants: [...others, peer] });
        this.options.onPeerJoined?.(peer);
        break;
      }
      case 'peer-left':
        this.update({ participants: this.state.participants.filter((p) => p.id !== message.peerId) });
        break;
      case 'error': {
        this.lastServerError = message.message;
        this.log('server-error', { message: message.message });
        const error: CallError = { kind: 'server', message: message.message };
        this.update({ error });
        // In a call the socket stays open: the notice fades after a while.
        if (this.errorTimer !== null) clearTimeout(this.errorTimer);
        this.errorTimer = setTimeout(() => {
          this.errorTimer = null;
          if (this.state.error === error && this.state.phase !== 'idle') this.update({ error: null });
        }, ERROR_VISIBLE_MS);
        return;
      }
      default:
        break;
    }
    this.transport?.handleMessage(message);
  }

  private onWelcome(welcome: Welcome): void {
    const mode = welcome.mediaTransport ?? this.options.configuredMode() ?? 'ws';
    const missing = missingFeatures(window as never, mode);
    if (missing.length > 0) {
      this.log('unsupported', { mode, missing: missing.join(',') });
      const error: CallError = { kind: 'unsupported', missing, mode };
      this.leave();
      this.update({ error });
      return;
    }
    this.transport?.close(false);
    const socket = this.socket!;
    const transport = createTransport(
      mode,
      {
        localStream: this.state.localStream!,
        send: (m) => socket.send(m),
        sendBinary: (d) => socket.sendBinary(d),
        bufferedAmount: () => socket.bufferedAmount(),
        log: (event, fields) => this.log(event, fields),
        playbackBlocked: () => {
          if (!this.state.playbackBlocked) this.update({ playbackBlocked: true });
        },
        rejoin: (reason) => this.rejoin(socket, reason),
      },
      welcome.id,
    );
    this.transport = transport;
    const reconnected = this.everJoined;
    this.everJoined = true;
    this.attempt = 0;
    sessionStore.set(IN_CALL_KEY, '1');
    this.update({
      phase: 'in-call',
      selfId: welcome.id,
      mode,
      participants: welcome.participants,
      reconnectIn: null,
      reconnected,
      error: this.state.error?.kind === 'disconnected' ? null : this.state.error,
    });
    transport.start(welcome);
    for (const [peerId, video] of this.videos) transport.attach(peerId, video);
    this.log(reconnected ? 'rejoined' : 'joined', { id: welcome.id, mode, participants: welcome.participants.length + 1 });
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.transport?.close(false);
    this.transport = null;
    if (this.state.phase === 'idle') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.log('disconnected', { code, reason });
      const message = this.lastServerError ?? reason;
      stopStream(this.state.localStream);
      sessionStore.set(IN_CALL_KEY, null);
      this.update({
        ...INITIAL,
        error: message ? { kind: 'server', message } : { kind: 'disconnected' },
      });
      return;
    }
    this.scheduleReconnect(code);
  }

  /** Drop this socket and its transport and go through the reconnect path. */
  private rejoin(socket: SignalingSocket, reason: string): void {
    if (this.socket !== socket || this.state.phase === 'idle') return; // already replaced
    this.log('media-rejoin', { reason });
    this.socket = null;
    socket.close(4000);
    this.transport?.close(false);
    this.transport = null;
    this.scheduleReconnect(4000);
  }

  private scheduleReconnect(code: number): void {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.log('reconnect', { attempt: this.attempt, code, delayMs: delay });
    const due = Date.now() + delay;
    const tick = () => this.update({ reconnectIn: Math.max(1, Math.ceil((due - Date.now()) / 1000)) });
    this.update({ phase: this.everJoined ? 'reconnecting' : 'connecting', participants: this.state.participants });
    tick();
    this.countdown = setInterval(tick, 500);
    this.reconnectTimer = setTimeout(() => {
      this.clearReconnect();
      this.connect();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.countdown !== null) clearInterval(this.countdown);
    this.reconnectTimer = null;
    this.countdown = null;
  }

  private log(event: string, fields: LogFields = {}): void {
    postLog(event, { ...fields, id: fields.id ?? this.state.selfId ?? undefined });
  }
}
