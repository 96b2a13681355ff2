// `ws` media mode: publish with MediaRecorder over the signaling WebSocket,
// play every other participant through its own MediaSource player. A shared
// screen replaces the camera in the recording (docs/PROTOCOL.md, Participant
// state), so it plays in the sharer's one player.

import type { ServerMessage, Welcome } from '../../protocol/messages';
import { parseMediaPacket } from '../../protocol/packet';
import type { QualityReport } from '../quality';
import type { Transport, TransportDebug, TransportHost } from '../types';
import { MsePlayer } from './player';
import { WsPublisher } from './publisher';

export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  private readonly players = new Map<string, MsePlayer>();
  /** Per peer, what its replaced players did: a reconnect-long tally for debug(). */
  private readonly past = new Map<string, { rebuilds: number; splices: number }>();
  private readonly publisher: WsPublisher;
  /** Each player follows its tile's element: a MediaSource binds to one element. */
  private readonly unwatch: () => void;
  private orphanPackets = 0;
  private closed = false;

  constructor(private readonly host: TransportHost) {
    this.publisher = new WsPublisher(host);
    this.unwatch = host.videos.watch((peerId, video) => this.players.get(peerId)?.attach(video));
  }

  start(welcome: Welcome): void {
    // Late join: the server follows with each publisher's init segment and history.
    for (const peer of welcome.mediaPeers) this.startPlayer(peer.id, peer.mimeType);
    this.publisher.start();
  }

  handleMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'media-start':
        this.startPlayer(message.peerId, message.mimeType);
        break;
      case 'media-stop':
        this.stopPlayer(message.peerId);
        break;
      case 'peer-left':
        this.stopPlayer(message.peerId);
        this.past.delete(message.peerId);
        break;
      case 'media-keyframe':
        this.publisher.requestKeyframe();
        break;
      default:
        break;
    }
  }

  handleBinary(data: ArrayBuffer): void {
    const packet = parseMediaPacket(data);
    if (!packet) return;
    const player = this.players.get(packet.peerId);
    if (player) player.push(packet.chunk);
    else this.orphanPackets += 1;
  }

  localTrackChanged(): void {
    this.publisher.restart();
  }

  async quality(): Promise<QualityReport> {
    // How others reach us is in their own reports (`state.quality`).
    return { own: this.publisher.quality(), peers: {} };
  }

  async debug(): Promise<TransportDebug> {
    const peers: TransportDebug['peers'] = {};
    for (const [id, player] of this.players) {
      const past = this.past.get(id) ?? { rebuilds: 0, splices: 0 };
      peers[id] = {
        bytesAppended: player.bytesAppended,
        mimeType: player.mimeType,
        // Every MediaSource started over while playing this peer, and every new stream continued instead.
        rebuilds: past.rebuilds + player.rebuilds,
        splices: past.splices + player.splices,
      };
    }
    return {
      kind: this.kind,
      peers,
      publishing: this.publisher.mimeType,
      chunksSent: this.publisher.chunksSent,
      recorderRestarts: this.publisher.restarts,
      keyframeRestarts: this.publisher.keyframeRestarts,
      orphanPackets: this.orphanPackets,
    };
  }

  close(leaving: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.publisher.stop(leaving);
    for (const id of [...this.players.keys()]) this.stopPlayer(id);
  }

  private startPlayer(peerId: string, mimeType: string): void {
    if (this.closed) return;
    // A new media-start is a new WebM stream: continue it on the running player
    // where it can (no visible glitch), else start a fresh MediaSource.
    const current = this.players.get(peerId);
    if (current?.restart(mimeType)) return;
    if (current) this.retire(peerId, current, 1);
    const player = new MsePlayer(peerId, mimeType, {
      log: (event, fields) => this.host.log(event, fields),
      playbackBlocked: () => this.host.playbackBlocked(),
    });
    this.players.set(peerId, player);
    const video = this.host.videos.get(peerId);
    if (video) player.attach(video);
  }

  private stopPlayer(peerId: string): void {
    const player = this.players.get(peerId);
    if (!player) return;
    this.players.delete(peerId);
    this.retire(peerId, player, 0);
  }

  /** Destroy a player, keeping its counts (plus `rebuilds`: 1 when a new player replaces it). */
  private retire(peerId: string, player: MsePlayer, rebuilds: number): void {
    const past = this.past.get(peerId) ?? { rebuilds: 0, splices: 0 };
    this.past.set(peerId, { rebuilds: past.rebuilds + player.rebuilds + rebuilds, splices: past.splices + player.splices });
    player.destroy();
  }
}
