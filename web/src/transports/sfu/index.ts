// `sfu` media mode (docs/PROTOCOL.md, SFU section): one RTCPeerConnection to the
// server peer `sfu`. We offer our microphone and camera after `welcome`; the
// server then renegotiates whenever the forwarded tracks change, each offer
// carrying `tracks` so every receiving mid maps to a participant. We are the
// polite side of the shared perfect negotiation: a server offer that collides
// with ours wins. Each of our tracks has its own sendonly m-line, kept for the
// whole call (another device: replaceTrack); a shared screen's is labelled in
// our offers' `tracks`, and the server labels it for everyone else.
//
// Bandwidth (SFU v2): the camera is published as simulcast (simulcast.ts) and the
// server's `layers` switch off the encodings nobody receives; `video-paused` marks the
// tiles whose video the server holds back for our downlink, and `link-quality` (the
// server's view of our downlink) joins our own measurement in the quality indicator.

import type { LocalSource } from '../../call/localTracks';
import {
  SFU_PEER_ID,
  type ServerMessage,
  type SfuTrack,
  type SignalData,
  type TrackInfo,
  type Welcome,
} from '../../protocol/messages';
import { Negotiation } from '../negotiation';
import { screenKey } from '../peerVideos';
import { LinkMeter, linkCounters, worse, type Quality, type QualityReport } from '../quality';
import { inboundCounts } from '../rtcStats';
import type { Transport, TransportDebug, TransportHost } from '../types';
import { outboundLayers, simulcastDisabled, simulcastEncodings, withActive } from './simulcast';
import { diffTracks, mappingFrom, pausedKeys, tracksByPeer } from './trackMap';

export class SfuTransport implements Transport {
  readonly kind = 'sfu' as const;
  private pc: RTCPeerConnection | null = null;
  private negotiation: Negotiation | null = null;
  private mapping = new Map<string, SfuTrack>();
  /** Shown streams by PeerVideos key (a participant, or a participant's screen). */
  private readonly streams = new Map<string, MediaStream>();
  private readonly senders: Partial<Record<LocalSource, RTCRtpTransceiver>> = {};
  private readonly ownMeter = new LinkMeter();
  private readonly peerMeters = new Map<string, LinkMeter>();
  private closed = false;
  /** Remote offers answered (debug handle). */
  private negotiations = 0;
  /** Our receiving video mids the server paused for bandwidth (`video-paused`). */
  private pausedMids: string[] = [];
  private shownPaused: string[] = [];
  /** The server's view of our downlink (`link-quality`). */
  private serverQuality: Quality | null = null;
  /** The rids of our camera the server last asked for (`layers`), and the setParameters chain. */
  private activeRids: string[] | null = null;
  private layersApplied: Promise<void> = Promise.resolve();

  constructor(private readonly host: TransportHost) {}

  start(welcome: Welcome): void {
    const pc = new RTCPeerConnection({
      iceServers: welcome.iceServers,
      iceTransportPolicy: welcome.iceTransportPolicy,
      bundlePolicy: 'max-bundle',
    });
    this.pc = pc;
    for (const source of ['mic', 'camera', 'screen'] as const) this.send(source);
    this.negotiation = new Negotiation(pc, { polite: true, endOfCandidates: true }, {
      signal: (data) => this.signal(data),
      failed: (step, error) => this.host.log('sfu-error', { step, error: String(error) }),
      // The mapping must be current before setRemoteDescription fires `track`.
      remoteOffer: (data) => {
        if (data.tracks) this.mapping = mappingFrom(data.tracks);
      },
      applied: (description) => {
        if (description.type === 'offer') this.negotiations += 1;
        this.refresh();
      },
      labels: () => this.labels(),
    });
    pc.ontrack = () => this.refresh();
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      if (state === 'failed' || state === 'disconnected') {
        this.host.log('sfu-connection', { state });
      }
      if (state === 'failed' && !this.closed) this.host.rejoin('sfu-connection-failed');
    };
  }

  handleMessage(message: ServerMessage): void {
    if (this.closed) return;
    if (message.type === 'signal' && message.from === SFU_PEER_ID) {
      void this.negotiation?.receive(message.data);
    } else if (message.type === 'peer-left') {
      // The server's renegotiation will remove the tracks; hide the tile's media now.
      this.setPeerTracks(message.peerId, []);
      this.setPeerTracks(screenKey(message.peerId), []);
      this.peerMeters.delete(message.peerId);
    } else if (message.type === 'video-paused') {
      this.pausedMids = message.mids;
      this.reportPaused();
    } else if (message.type === 'link-quality') {
      this.serverQuality = message.quality;
    } else if (message.type === 'layers') {
      if (message.mid === this.senders.camera?.mid) {
        this.activeRids = message.active;
        this.applyLayers();
      }
    }
  }

  localTrackChanged(source: LocalSource): void {
    this.send(source);
  }

  async quality(): Promise<QualityReport> {
    const report: QualityReport = { own: null, peers: {} };
    const pc = this.pc;
    if (!pc) return report;
    let stats: RTCStatsReport;
    try {
      stats = await pc.getStats();
    } catch {
      return report;
    }
    const own = this.ownMeter.sample(linkCounters(stats), pc.connectionState);
    // What we measure, or worse when the server sees our downlink held back.
    report.own = own === null ? null : worse(own, this.serverQuality);
    for (const [peerId, mids] of this.midsByPeer()) {
      const meter = this.peerMeters.get(peerId) ?? new LinkMeter();
      this.peerMeters.set(peerId, meter);
      const quality = meter.sample(linkCounters(stats, mids), pc.connectionState);
      if (quality) report.peers[peerId] = quality;
    }
    return report;
  }

  async debug(): Promise<TransportDebug> {
    const peers: TransportDebug['peers'] = {};
    const pc = this.pc;
    if (pc) {
      for (const [peerId, mids] of this.midsByPeer()) {
        peers[peerId] = { ...(await inboundCounts(pc, mids)), connectionState: pc.connectionState };
      }
    }
    const outbound = pc ? await outboundLayers(pc) : {};
    const layers = this.activeRids;
    return { kind: this.kind, peers, negotiations: this.negotiations, signalingState: pc?.signalingState, outbound, layers };
  }

  close(): void {
    this.closed = true;
    const pc = this.pc;
    this.pc = null;
    this.negotiation?.close();
    this.negotiation = null;
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    for (const peerId of [...this.streams.keys()]) this.setPeerTracks(peerId, []);
    this.pausedMids = [];
    this.reportPaused();
  }

  /** Send `host.local`'s current track for `source`: on its m-line, or on a new one. */
  private send(source: LocalSource): void {
    const pc = this.pc;
    if (!pc || this.closed) return;
    const track = this.host.local[source];
    const transceiver = this.senders[source];
    if (transceiver) {
      void transceiver.sender.replaceTrack(track).catch((error: unknown) =>
        this.host.log('sfu-error', { step: 'replaceTrack', error: String(error) }),
      );
      return;
    }
    if (!track) return;
    const streams = [source === 'screen' ? new MediaStream([track]) : this.host.local.stream];
    const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams };
    const encodings = source === 'camera' && !simulcastDisabled() ? cameraEncodings(track) : null;
    if (encodings) {
      try {
        this.senders[source] = pc.addTransceiver(track, { ...init, sendEncodings: encodings });
        return;
      } catch (error) {
        // A browser that cannot simulcast: one layer, as before.
        this.host.log('sfu-simulcast', { error: String(error) });
      }
    }
    this.senders[source] = pc.addTransceiver(track, init);
  }

  /** Switch our camera's encodings on and off as the server's `layers` asks (one at a time). */
  private applyLayers(): void {
    this.layersApplied = this.layersApplied.then(async () => {
      const sender = this.senders.camera?.sender;
      const active = this.activeRids;
      if (!sender || active === null || this.closed) return;
      const parameters = sender.getParameters();
      if (parameters.encodings.length < 2) return;
      const encodings = withActive(parameters.encodings, active);
      if (!encodings) return;
      try {
        await sender.setParameters({ ...parameters, encodings });
      } catch (error) {
        this.host.log('sfu-error', { step: 'setParameters', error: String(error) });
      }
    });
  }

  /** Tell the call which tiles are paused, when that changed. */
  private reportPaused(): void {
    const keys = pausedKeys(this.pausedMids, this.mapping);
    if (keys.join('\n') === this.shownPaused.join('\n')) return;
    this.shownPaused = keys;
    this.host.videosPaused(keys);
  }

  private labels(): TrackInfo[] {
    const mid = this.senders.screen?.mid;
    return mid ? [{ mid, kind: 'video', source: 'screen' }] : [];
  }

  private midsByPeer(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const t of this.mapping.values()) {
      const set = out.get(t.peerId) ?? new Set<string>();
      set.add(t.mid);
      out.set(t.peerId, set);
    }
    return out;
  }

  private signal(data: SignalData): void {
    if (!this.closed) this.host.send({ type: 'signal', to: SFU_PEER_ID, data });
  }

  /** Re-derive each participant's tracks from the transceivers and the latest `tracks` list. */
  private refresh(): void {
    const pc = this.pc;
    if (!pc || this.closed) return;
    const transceivers = pc.getTransceivers().map((t) => ({
      mid: t.mid,
      direction: t.currentDirection ?? t.direction,
      track: t.receiver.track,
    }));
    const wanted = tracksByPeer(transceivers, this.mapping);
    for (const peerId of new Set([...this.streams.keys(), ...wanted.keys()])) {
      this.setPeerTracks(peerId, wanted.get(peerId) ?? []);
    }
    this.reportPaused(); // the mapping may have changed
  }

  private setPeerTracks(peerId: string, tracks: MediaStreamTrack[]): void {
    let stream = this.streams.get(peerId);
    if (tracks.length === 0) {
      if (!stream) return;
      for (const t of stream.getTracks()) stream.removeTrack(t);
      this.streams.delete(peerId);
      this.host.videos.clear(peerId);
      return;
    }
    const isNew = !stream;
    stream ??= new MediaStream();
    const { add, remove } = diffTracks(stream.getTracks(), tracks);
    for (const t of remove) stream.removeTrack(t);
    for (const t of add) stream.addTrack(t);
    this.streams.set(peerId, stream);
    // A new track in the same stream: play() again so the element picks it up.
    if (isNew || add.length > 0) this.host.videos.show(peerId, stream);
  }
}

/** Simulcast encodings for the camera's capture size (null: one layer). */
function cameraEncodings(track: MediaStreamTrack): RTCRtpEncodingParameters[] | null {
  const { width, height } = track.getSettings();
  return width && height ? simulcastEncodings(width, height) : null;
}
