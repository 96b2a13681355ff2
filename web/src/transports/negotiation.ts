// Perfect negotiation for one RTCPeerConnection, shared by the mesh links
// (politeness from the two ids) and the SFU connection (always polite: the
// server's offer wins). Either side may offer at any time; on a collision the
// impolite side ignores the incoming offer and the polite side rolls its own
// back (setRemoteDescription does the implicit rollback). Remote signals are
// applied one at a time, in arrival order, so a remote answer is never still
// being applied when the next offer is checked for a collision.

import type { SignalData, TrackInfo } from '../protocol/messages';

export type NegotiationStep = 'offer' | 'signal' | 'candidate';

export interface NegotiationOptions {
  polite: boolean;
  /** Send `{candidate: null}` when gathering ends (the SFU wants it; mesh peers infer it). */
  endOfCandidates: boolean;
}

export interface NegotiationHooks {
  /** Send a description or candidate to the other side. */
  signal(data: SignalData): void;
  /** A step failed; the owner logs it under its own event name. */
  failed(step: NegotiationStep, error: unknown): void;
  /** A remote offer is about to be applied (not ignored): its `tracks` are current from now on. */
  remoteOffer?(data: SignalData): void;
  /** A remote description was applied (and an offer answered). */
  applied?(description: RTCSessionDescriptionInit): void;
  /** Labels of our own m-lines (a shared screen), sent as `tracks` with each description. */
  labels?(): TrackInfo[];
}

export class Negotiation {
  private makingOffer = false;
  private ignoreOffer = false;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly options: NegotiationOptions,
    private readonly hooks: NegotiationHooks,
  ) {
    pc.onnegotiationneeded = () => void this.offer();
    pc.onicecandidate = ({ candidate }) => {
      if (this.closed) return;
      if (candidate) this.hooks.signal({ candidate: candidate.toJSON() });
      else if (this.options.endOfCandidates) this.hooks.signal({ candidate: null });
    };
  }

  /** Apply a remote description or candidate after every earlier one. */
  receive(data: SignalData): Promise<void> {
    this.chain = this.chain.then(() => this.apply(data));
    return this.chain;
  }

  /** Stop negotiating; the owner closes the connection. */
  close(): void {
    this.closed = true;
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
  }

  private async offer(): Promise<void> {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.localDescription) this.sendDescription(this.pc.localDescription);
    } catch (error) {
      this.fail('offer', error);
    } finally {
      this.makingOffer = false;
    }
  }

  private async apply(data: SignalData): Promise<void> {
    if (this.closed) return;
    const pc = this.pc;
    try {
      if (data.description) {
        await this.applyDescription(data, data.description);
      } else if (data.candidate !== undefined) {
        try {
          // null: the other side has no more candidates.
          await pc.addIceCandidate(data.candidate ?? undefined);
        } catch (error) {
          // Candidates of an offer we ignored are expected to fail.
          if (!this.ignoreOffer) this.fail('candidate', error);
        }
      }
    } catch (error) {
      this.fail('signal', error);
    }
  }

  private sendDescription(description: RTCSessionDescription): void {
    const data: SignalData = { description: description.toJSON() };
    const labels = this.hooks.labels?.() ?? [];
    if (labels.length > 0) data.tracks = labels;
    this.hooks.signal(data);
  }

  /** Failures after close are the closed connection's, not news. */
  private fail(step: NegotiationStep, error: unknown): void {
    if (!this.closed) this.hooks.failed(step, error);
  }

  private async applyDescription(data: SignalData, description: RTCSessionDescriptionInit): Promise<void> {
    const pc = this.pc;
    const isOffer = description.type === 'offer';
    const collision = isOffer && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = collision && !this.options.polite;
    if (this.ignoreOffer) return;
    if (isOffer) this.hooks.remoteOffer?.(data);
    await pc.setRemoteDescription(description);
    if (isOffer) {
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendDescription(pc.localDescription);
    }
    if (!this.closed) this.hooks.applied?.(description);
  }
}
