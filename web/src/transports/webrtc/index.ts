// `webrtc` media mode: a full mesh, one PeerLink per other participant. Existing
// participants create the link (and so the offer) when a newcomer's
// `peer-joined` arrives; a newcomer creates its links when their first signal
// arrives. Each link's statistics tell how that participant reaches us; our
// own quality is the worst of what the others report receiving from us.
// A shared screen goes only to participants that report their state (this
// client): the original client would take the extra video for the camera.

import type { LocalSource } from '../../call/localTracks';
import { isPolite } from '../../protocol/politeness';
import type { ServerMessage, Welcome } from '../../protocol/messages';
import { screenKey } from '../peerVideos';
import { classifyLink, LinkMeter, linkCounters, worse, type QualityReport } from '../quality';
import { inboundCounts } from '../rtcStats';
import type { Transport, TransportDebug, TransportHost } from '../types';
import { PeerLink } from './peer';

export class WebRtcTransport implements Transport {
  readonly kind = 'webrtc' as const;
  private readonly links = new Map<string, PeerLink>();
  private readonly gone = new Set<string>();
  private readonly meters = new Map<string, LinkMeter>();
  /** Participants that speak participant state (can tell a screen from a camera). */
  private readonly reporting = new Set<string>();
  private config: RTCConfiguration = {};
  private closed = false;

  constructor(
    private readonly host: TransportHost,
    private readonly selfId: string,
  ) {}

  start(welcome: Welcome): void {
    for (const p of welcome.participants) if (p.state) this.reporting.add(p.id);
    this.config = {
      iceServers: welcome.iceServers,
      iceTransportPolicy: welcome.iceTransportPolicy,
    };
  }

  handleMessage(message: ServerMessage): void {
    if (this.closed) return;
    switch (message.type) {
      case 'peer-joined':
        this.gone.delete(message.peer.id);
        this.link(message.peer.id);
        break;
      case 'peer-left':
        this.gone.add(message.peerId);
        this.reporting.delete(message.peerId);
        this.drop(message.peerId);
        break;
      case 'state':
        if (!this.reporting.has(message.peerId)) {
          this.reporting.add(message.peerId);
          this.links.get(message.peerId)?.send('screen'); // if we share already
        }
        break;
      case 'signal': {
        const { from, data } = message;
        if (from === this.selfId || this.gone.has(from)) break;
        // Only an offer may open a link: a stray candidate from someone who left must not.
        const link = this.links.get(from) ?? (data.description?.type === 'offer' ? this.link(from) : null);
        if (link) void link.handleSignal(data);
        break;
      }
      default:
        break;
    }
  }

  localTrackChanged(source: LocalSource): void {
    for (const link of this.links.values()) link.send(source);
  }

  async quality(): Promise<QualityReport> {
    const report: QualityReport = { own: null, peers: {} };
    for (const [id, link] of this.links) {
      let stats: RTCStatsReport;
      try {
        stats = await link.pc.getStats();
      } catch {
        continue;
      }
      const meter = this.meters.get(id) ?? new LinkMeter();
      this.meters.set(id, meter);
      const counters = linkCounters(stats);
      const incoming = meter.sample(counters, link.pc.connectionState);
      if (incoming) report.peers[id] = incoming;
      if (counters.remoteLoss !== null) report.own = worse(report.own, classifyLink(counters.remoteLoss, counters.rttMs));
    }
    return report;
  }

  async debug(): Promise<TransportDebug> {
    const peers: TransportDebug['peers'] = {};
    for (const [id, link] of this.links) {
      peers[id] = { ...(await inboundCounts(link.pc)), connectionState: link.pc.connectionState };
    }
    return { kind: this.kind, peers };
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.links.keys()]) this.drop(id);
  }

  private link(peerId: string): PeerLink {
    let link = this.links.get(peerId);
    if (link) return link;
    link = new PeerLink(peerId, isPolite(this.selfId, peerId), this.config, this.host.local, {
      screenWelcome: () => this.reporting.has(peerId),
      signal: (data) => this.host.send({ type: 'signal', to: peerId, data }),
      log: (event, fields) => this.host.log(event, fields),
      remoteStream: (stream) => this.host.videos.show(peerId, stream),
      remoteScreen: (stream) => this.host.videos.show(screenKey(peerId), stream),
    });
    this.links.set(peerId, link);
    return link;
  }

  private drop(peerId: string): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    this.meters.delete(peerId);
    link.close();
    this.host.videos.clear(peerId);
    this.host.videos.clear(screenKey(peerId));
  }
}
