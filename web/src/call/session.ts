// One call from "Join" to "Leave": local media, the signaling socket with
// reconnects, the room roster with everyone's reported state, and the
// transport for the server's media mode. Plain TypeScript with a
// subscribe/snapshot API (React reads it through useSyncExternalStore in
// hooks/useCall.ts). Everything outside (socket, transport, camera, logging)
// comes in through `SessionDeps`; our own media is run by `MediaControl`.

import type { LogFields } from '../lib/clientlog';
import { IN_CALL_KEY, local, NAME_KEY, session as sessionStore } from '../lib/storage';
import {
  cleanName,
  type MediaTransportKind,
  type Peer,
  type ServerMessage,
  type Welcome,
} from '../protocol/messages';
import { PeerVideos } from '../transports/peerVideos';
import type { Transport, TransportDebug, TransportHost } from '../transports/types';
import type { SessionDeps } from './deps';
import { LocalMediaError, stopStream, type DeviceKind, type OpenedMedia } from './localMedia';
import type { LocalSource } from './localTracks';
import { MediaControl } from './mediaControl';
import {
  ownState,
  participantOf,
  SCREEN_TAKEN,
  screenSharer,
  StateReporter,
  withState,
} from './presence';
import { QualityPoll } from './qualityPoll';
import { ReconnectTimer } from './reconnect';
import type { SignalingLink } from './socket';
import { SpeakingMonitor } from './speaking';
import { INITIAL, type CallError, type CallState, type Phase } from './state';

export type { CallError, CallState, Participant, Phase } from './state';

export interface SessionOptions {
  /** The mode /config announced (used until `welcome` says otherwise). */
  configuredMode: () => MediaTransportKind | null;
  onPeerJoined?: (peer: Peer) => void;
}

/** How long a server notice stays on the call screen. */
export const ERROR_VISIBLE_MS = 10_000;

/** WebSocket close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set([1008]);

/** Our close code when we drop the socket to rejoin (the transport asked). */
export const REJOIN_CLOSE_CODE = 4000;

export class CallSession {
  private state: CallState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private socket: SignalingLink | null = null;
  private transport: Transport | null = null;
  /** The one owner of participant id → <video>; it outlives sockets and transports. */
  private readonly videos = new PeerVideos(() => this.markPlaybackBlocked());
  private readonly reconnect: ReconnectTimer;
  private readonly speaking: SpeakingMonitor;
  private media: MediaControl | null = null;
  private reporter: StateReporter | null = null;
  private readonly quality: QualityPoll;
  private name = '';
  /** Counts join() calls, so a permission prompt answered after leave → join is ignored. */
  private joins = 0;
  private lastServerError: string | null = null;
  private everJoined = false;
  private errorTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: SessionOptions,
    private readonly deps: SessionDeps,
  ) {
    this.reconnect = new ReconnectTimer(deps.reconnectDelay);
    this.quality = new QualityPoll({
      transport: () => this.transport,
      state: () => this.state,
      changed: (patch) => {
        this.update(patch);
        this.reportState();
      },
    });
    this.speaking = new SpeakingMonitor(deps.levelMeter, (speaking) => {
      this.update({ speaking });
      this.reportState();
    });
  }

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

  /** The phase now (TypeScript would keep a narrowing from before an await). */
  private phaseNow(): Phase {
    return this.state.phase;
  }

  // --- user actions --------------------------------------------------------
  /** Join as `rawName` with the join screen's `preview` media (else the camera opens now). */
  async join(rawName: string, preview?: OpenedMedia): Promise<void> {
    const name = cleanName(rawName);
    if (!name || this.state.phase !== 'idle') return;
    const attempt = ++this.joins;
    this.name = name;
    local.set(NAME_KEY, name);
    this.update({ ...INITIAL, phase: 'starting' });
    let opened: OpenedMedia;
    try {
      opened = preview ?? (await this.deps.openLocalMedia(this.deps.media.savedChoice()));
    } catch (error) {
      if (attempt !== this.joins) return; // a newer join owns the screen
      const kind = error instanceof LocalMediaError ? error.kind : 'failed';
      this.log('media-error', { reason: 'getUserMedia', kind, error: String(error) });
      this.update({ phase: 'idle', error: { kind: kind === 'denied' ? 'media-denied' : 'media-failed' } });
      return;
    }
    if (attempt !== this.joins || this.phaseNow() !== 'starting') {
      stopStream(opened.stream); // left while the permission prompt was open
      return;
    }
    this.media = new MediaControl(opened, this.deps.media, {
      changed: (source) => this.localChanged(source),
      notice: (notice) => this.update({ notice }),
      log: (event, fields) => this.log(event, fields),
    });
    this.update({ ...this.mediaState(), notice: MediaControl.joinNotice(opened) });
    this.speaking.follow(this.media.tracks.mic, true);
    this.log('join', { mode: this.options.configuredMode() ?? 'unknown', video: opened.cameraProblem === null });
    this.everJoined = false;
    this.reconnect.reset();
    this.quality.start();
    this.connect();
  }

  leave(): void {
    if (this.state.phase === 'idle') return;
    this.log('leave', { id: this.state.selfId ?? '' });
    sessionStore.set(IN_CALL_KEY, null);
    this.reconnect.cancel();
    this.transport?.close(true);
    this.transport = null;
    this.socket?.close(1000);
    this.socket = null;
    this.stopMedia();
    this.update({ ...INITIAL });
  }

  toggleMic(): void {
    this.setOn('mic', !this.state.micOn);
  }

  /** Turning the camera off disables (not stops) it: senders and the recorder keep running. */
  toggleCamera(): void {
    if (this.state.hasCamera) this.setOn('camera', !this.state.camOn);
  }

  /** Use another microphone or camera, without rejoining. */
  async switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    await this.media?.switchDevice(kind, deviceId);
  }

  /** Share a screen, or stop sharing it. Someone else sharing already: say so instead. */
  async toggleScreen(): Promise<void> {
    const media = this.media;
    if (!media || this.state.phase === 'idle') return;
    if (media.tracks.screen) {
      media.stopScreen();
      return;
    }
    if (screenSharer(this.state.participants)) {
      this.update({ notice: 'screen-taken' });
      return;
    }
    await media.startScreen();
  }

  dismissError(): void {
    this.update({ error: null });
  }

  /** A remote tile's <video> mounted (element) or unmounted (null). */
  attachVideo(peerId: string, video: HTMLVideoElement | null): void {
    this.videos.set(peerId, video);
  }

  resumePlayback(): void {
    this.videos.playAll();
    this.update({ playbackBlocked: false });
  }

  async debug(): Promise<TransportDebug | null> {
    return this.transport ? this.transport.debug() : null;
  }

  // --- our media -----------------------------------------------------------
  private setOn(kind: DeviceKind, on: boolean): void {
    const media = this.media;
    if (!media) return;
    media.setOn(kind, on);
    if (kind === 'mic') this.speaking.follow(media.tracks.mic, on);
    this.update(kind === 'mic' ? { micOn: on } : { camOn: on });
    this.reportState();
  }

  /** A track changed (device switched or lost, screen shared or not): send it, show it. */
  private localChanged(source: LocalSource): void {
    const media = this.media;
    if (!media) return;
    this.transport?.localTrackChanged(source);
    if (source === 'mic') this.speaking.follow(media.tracks.mic, media.isOn('mic'));
    this.update(this.mediaState(source));
    this.reportState();
  }

  private mediaState(changed?: LocalSource): Partial<CallState> {
    return this.media!.snapshot(changed === undefined || changed === 'screen');
  }

  private reportState(): void {
    if (this.state.phase === 'in-call') this.reporter?.report(ownState(this.state));
  }

  private stopMedia(): void {
    this.speaking.stop();
    this.quality.stop();
    this.media?.stop();
    this.media = null;
  }

  // --- connection ----------------------------------------------------------
  private connect(): void {
    this.lastServerError = null;
    this.update({ phase: this.everJoined ? 'reconnecting' : 'connecting', reconnectIn: null });
    this.socket = this.deps.openSocket({
      open: () => this.socket?.send({ type: 'join', name: this.name }),
      message: (message) => this.onMessage(message),
      binary: (data) => this.transport?.handleBinary?.(data),
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
        this.update({ participants: [...others, participantOf(peer)] });
        this.options.onPeerJoined?.(peer);
        break;
      }
      case 'peer-left':
        this.update({ participants: this.state.participants.filter((p) => p.id !== message.peerId) });
        break;
      case 'state':
        this.update({ participants: withState(this.state.participants, message.peerId, message.state) });
        break;
      case 'error':
        if (message.message === SCREEN_TAKEN) {
          // Someone started sharing a moment before us: ours stops.
          this.media?.stopScreen();
          this.update({ notice: 'screen-taken' });
          return;
        }
        this.showServerError(message.message);
        return;
      default:
        break;
    }
    this.transport?.handleMessage(message);
  }

  /** In a call the socket stays open after an `error`: the notice fades after a while. */
  private showServerError(message: string): void {
    this.lastServerError = message;
    this.log('server-error', { message });
    const error: CallError = { kind: 'server', message };
    this.update({ error });
    if (this.errorTimer !== null) clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      this.errorTimer = null;
      if (this.state.error === error && this.state.phase !== 'idle') this.update({ error: null });
    }, ERROR_VISIBLE_MS);
  }

  private onWelcome(welcome: Welcome): void {
    const mode = welcome.mediaTransport ?? this.options.configuredMode() ?? 'ws';
    const missing = this.deps.missingFeatures(mode);
    if (missing.length > 0) {
      this.log('unsupported', { mode, missing: missing.join(',') });
      const error: CallError = { kind: 'unsupported', missing, mode };
      this.leave();
      this.update({ error });
      return;
    }
    this.transport?.close(false);
    const socket = this.socket!;
    const transport = this.deps.createTransport(mode, this.hostFor(socket), welcome.id);
    this.transport = transport;
    this.reporter = new StateReporter((m) => socket.send(m));
    const reconnected = this.everJoined;
    this.everJoined = true;
    this.reconnect.reset();
    sessionStore.set(IN_CALL_KEY, '1');
    this.update({
      phase: 'in-call',
      selfId: welcome.id,
      mode,
      participants: welcome.participants.map((p) => participantOf(p)),
      quality: null,
      pausedVideos: [],
      reconnectIn: null,
      reconnected,
      error: this.state.error?.kind === 'disconnected' ? null : this.state.error,
    });
    transport.start(welcome);
    this.reportState();
    this.log(reconnected ? 'rejoined' : 'joined', { id: welcome.id, mode, participants: welcome.participants.length + 1 });
  }

  private hostFor(socket: SignalingLink): TransportHost {
    return {
      local: this.media!.tracks,
      videos: this.videos,
      send: (m) => socket.send(m),
      sendBinary: (d) => socket.sendBinary(d),
      bufferedAmount: () => socket.bufferedAmount(),
      log: (event, fields) => this.log(event, fields),
      playbackBlocked: () => this.markPlaybackBlocked(),
      videosPaused: (keys) => {
        if (this.socket === socket) this.update({ pausedVideos: keys });
      },
      rejoin: (reason) => this.rejoin(socket, reason),
    };
  }

  private markPlaybackBlocked(): void {
    if (!this.state.playbackBlocked) this.update({ playbackBlocked: true });
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.transport?.close(false);
    this.transport = null;
    if (this.state.phase === 'idle') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.log('disconnected', { code, reason });
      const message = this.lastServerError ?? reason;
      this.stopMedia();
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
  private rejoin(socket: SignalingLink, reason: string): void {
    if (this.socket !== socket || this.state.phase === 'idle') return; // already replaced
    this.log('media-rejoin', { reason });
    this.socket = null;
    socket.close(REJOIN_CLOSE_CODE);
    this.transport?.close(false);
    this.transport = null;
    this.scheduleReconnect(REJOIN_CLOSE_CODE);
  }

  private scheduleReconnect(code: number): void {
    this.update({ phase: this.everJoined ? 'reconnecting' : 'connecting', pausedVideos: [] });
    const { attempt, delayMs } = this.reconnect.schedule(
      (seconds) => this.update({ reconnectIn: seconds }),
      () => this.connect(),
    );
    this.log('reconnect', { attempt, code, delayMs });
  }

  private log(event: string, fields: LogFields = {}): void {
    this.deps.log(event, { ...fields, id: fields.id ?? this.state.selfId ?? undefined });
  }
}
