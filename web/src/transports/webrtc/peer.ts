// One mesh link: our tracks out, the other participant's tracks in, negotiated
// by the shared perfect-negotiation module. Camera and microphone share one
// incoming MediaStream; a shared screen arrives on an m-line the sender labels
// `source: "screen"` in its descriptions' `tracks`, and gets a stream of its own.

import type { LocalSource, LocalTracksView } from '../../call/localTracks';
import type { LogFields } from '../../lib/clientlog';
import type { SignalData, TrackInfo } from '../../protocol/messages';
import { Negotiation } from '../negotiation';

export interface PeerLinkHooks {
  /** Whether the other side can take a screen's m-line (it speaks participant state). */
  screenWelcome(): boolean;
  signal(data: SignalData): void;
  log(event: string, fields?: LogFields): void;
  remoteStream(stream: MediaStream): void;
  remoteScreen(stream: MediaStream): void;
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly stream = new MediaStream();
  readonly screenStream = new MediaStream();
  private readonly negotiation: Negotiation;
  /** Our senders, by what they carry (replaceTrack keeps the m-line). */
  private readonly senders: Partial<Record<LocalSource, RTCRtpSender>> = {};
  private screenTransceiver: RTCRtpTransceiver | null = null;
  /** The other side's m-lines that carry its screen. */
  private readonly remoteScreenMids = new Set<string>();
  private closed = false;

  constructor(
    readonly peerId: string,
    polite: boolean,
    config: RTCConfiguration,
    private readonly local: LocalTracksView,
    private readonly hooks: PeerLinkHooks,
  ) {
    this.pc = new RTCPeerConnection(config);
    const pc = this.pc;
    for (const source of ['mic', 'camera', 'screen'] as const) this.send(source);
    // End-of-candidates is not sent in mesh mode: every browser infers it.
    this.negotiation = new Negotiation(pc, { polite, endOfCandidates: false }, {
      signal: (data) => this.hooks.signal(data),
      failed: (step, error) => this.hooks.log('webrtc-error', { peer: this.peerId, step, error: String(error) }),
      remoteOffer: (data) => this.learnLabels(data.tracks),
      labels: () => this.labels(),
    });
    pc.ontrack = ({ track, transceiver }) => this.received(track, transceiver.mid);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && !this.closed) {
        this.hooks.log('webrtc-ice-restart', { peer: this.peerId });
        pc.restartIce();
      }
    };
  }

  handleSignal(data: SignalData): Promise<void> {
    return this.negotiation.receive(data);
  }

  /** Send `local`'s current track for `source`: replaceTrack, or a new m-line the first time. */
  send(source: LocalSource): void {
    if (this.closed) return;
    const track = this.local[source];
    const sender = this.senders[source];
    if (sender) {
      void sender.replaceTrack(track).catch((error: unknown) =>
        this.hooks.log('webrtc-error', { peer: this.peerId, step: 'replaceTrack', error: String(error) }),
      );
      return;
    }
    if (!track) return;
    if (source === 'screen') {
      if (!this.hooks.screenWelcome()) return;
      // Its own sendonly m-line, never paired with one of the other side's.
      this.screenTransceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [new MediaStream([track])] });
      this.senders.screen = this.screenTransceiver.sender;
    } else {
      this.senders[source] = this.pc.addTrack(track, this.local.stream);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.negotiation.close();
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }

  private labels(): TrackInfo[] {
    const mid = this.screenTransceiver?.mid;
    return mid ? [{ mid, kind: 'video', source: 'screen' }] : [];
  }

  private learnLabels(tracks: TrackInfo[] | undefined): void {
    if (!tracks) return;
    for (const t of tracks) if (t.source === 'screen') this.remoteScreenMids.add(t.mid);
  }

  private received(track: MediaStreamTrack, mid: string | null): void {
    const screen = mid !== null && this.remoteScreenMids.has(mid);
    const stream = screen ? this.screenStream : this.stream;
    for (const old of stream.getTracks()) {
      if (old.kind === track.kind && old !== track) stream.removeTrack(old);
    }
    if (!stream.getTracks().includes(track)) stream.addTrack(track);
    if (screen) this.hooks.remoteScreen(stream);
    else this.hooks.remoteStream(stream);
  }
}
