// One mesh link: our tracks out, the other participant's tracks in one
// MediaStream, negotiated by the shared perfect-negotiation module.

import type { LogFields } from '../../lib/clientlog';
import type { SignalData } from '../../protocol/messages';
import { Negotiation } from '../negotiation';

export interface PeerLinkHooks {
  signal(data: SignalData): void;
  log(event: string, fields?: LogFields): void;
  remoteStream(stream: MediaStream): void;
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly stream = new MediaStream();
  private readonly negotiation: Negotiation;
  private closed = false;

  constructor(
    readonly peerId: string,
    polite: boolean,
    config: RTCConfiguration,
    localStream: MediaStream,
    private readonly hooks: PeerLinkHooks,
  ) {
    this.pc = new RTCPeerConnection(config);
    const pc = this.pc;
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    // End-of-candidates is not sent in mesh mode: every browser infers it.
    this.negotiation = new Negotiation(pc, { polite, endOfCandidates: false }, {
      signal: (data) => this.hooks.signal(data),
      failed: (step, error) => this.hooks.log('webrtc-error', { peer: this.peerId, step, error: String(error) }),
    });
    pc.ontrack = ({ track }) => {
      for (const old of this.stream.getTracks()) {
        if (old.kind === track.kind && old !== track) this.stream.removeTrack(old);
      }
      if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
      this.hooks.remoteStream(this.stream);
    };
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.negotiation.close();
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}
