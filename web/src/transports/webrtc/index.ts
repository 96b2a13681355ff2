// `webrtc` media mode: a full mesh, one PeerLink per other participant. Existing
// participants create the link (and so the offer) when a newcomer's
// `peer-joined` arrives; a newcomer creates its links when their first signal
// arrives.

import { isPolite } from '../../protocol/politeness';
import type { ServerMessage, Welcome } from '../../protocol/messages';
import { inboundCounts } from '../rtcStats';
import type { Transport, TransportDebug, TransportHost } from '../types';
import { PeerLink } from './peer';

export class WebRtcTransport implements Transport {
  readonly kind = 'webrtc' as const;
  private readonly links = new Map<string, PeerLink>();
  private readonly gone = new Set<string>();
  private config: RTCConfiguration = {};
  private closed = false;

  constructor(
    private readonly host: TransportHost,
    private readonly selfId: string,
  ) {}

  start(welcome: Welcome): void {
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
        this.drop(message.peerId);
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
    link = new PeerLink(peerId, isPolite(this.selfId, peerId), this.config, this.host.localStream, {
      signal: (data) => this.host.send({ type: 'signal', to: peerId, data }),
      log: (event, fields) => this.host.log(event, fields),
      remoteStream: (stream) => this.host.videos.show(peerId, stream),
    });
    this.links.set(peerId, link);
    return link;
  }

  private drop(peerId: string): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    link.close();
    this.host.videos.clear(peerId);
  }
}
