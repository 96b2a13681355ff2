// One mesh link with perfect negotiation: both sides may offer at any time;
// on a collision the impolite side ignores the incoming offer and the polite
// side rolls back (setRemoteDescription does the implicit rollback).

import type { SignalData } from '../../protocol/messages';

export interface PeerLinkHooks {
  signal(data: SignalData): void;
  log(event: string, fields?: Record<string, string | number | boolean>): void;
  remoteStream(stream: MediaStream): void;
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly stream = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;
  private settingRemoteAnswer = false;
  private closed = false;

  constructor(
    readonly peerId: string,
    private readonly polite: boolean,
    config: RTCConfiguration,
    localStream: MediaStream,
    private readonly hooks: PeerLinkHooks,
  ) {
    this.pc = new RTCPeerConnection(config);
    const pc = this.pc;
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    pc.onnegotiationneeded = () => void this.negotiate();
    pc.onicecandidate = ({ candidate }) => {
      // End-of-candidates is not sent in mesh mode: every browser infers it.
      if (candidate) this.hooks.signal({ candidate: candidate.toJSON() });
    };
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

  private async negotiate(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.localDescription) this.hooks.signal({ description: this.pc.localDescription.toJSON() });
    } catch (error) {
      this.hooks.log('webrtc-error', { peer: this.peerId, step: 'offer', error: String(error) });
    } finally {
      this.makingOffer = false;
    }
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.closed) return;
    const pc = this.pc;
    try {
      if (data.description) {
        const description = data.description;
        const readyForOffer =
          !this.makingOffer && (pc.signalingState === 'stable' || this.settingRemoteAnswer);
        const offerCollision = description.type === 'offer' && !readyForOffer;
        this.ignoreOffer = !this.polite && offerCollision;
        if (this.ignoreOffer) return;
        this.settingRemoteAnswer = description.type === 'answer';
        try {
          await pc.setRemoteDescription(description);
        } finally {
          this.settingRemoteAnswer = false;
        }
        if (description.type === 'offer') {
          await pc.setLocalDescription();
          if (pc.localDescription) this.hooks.signal({ description: pc.localDescription.toJSON() });
        }
      } else if (data.candidate) {
        try {
          await pc.addIceCandidate(data.candidate);
        } catch (error) {
          if (!this.ignoreOffer) throw error;
        }
      }
    } catch (error) {
      this.hooks.log('webrtc-error', { peer: this.peerId, step: 'signal', error: String(error) });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}
