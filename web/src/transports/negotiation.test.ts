// Perfect negotiation against a fake RTCPeerConnection that models just the
// signaling states: offers, answers, glare on either side, candidates, order.

import { describe, expect, it } from 'vitest';
import type { SignalData } from '../protocol/messages';
import { Negotiation, type NegotiationHooks, type NegotiationOptions, type NegotiationStep } from './negotiation';

function description(type: RTCSdpType, sdp = type) {
  return { type, sdp, toJSON: () => ({ type, sdp }) };
}

class FakePc {
  signalingState: RTCSignalingState = 'stable';
  localDescription: ReturnType<typeof description> | null = null;
  readonly calls: string[] = [];
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((event: { candidate: { toJSON(): RTCIceCandidateInit } | null }) => void) | null = null;
  /** While set, setRemoteDescription waits for it (to observe ordering). */
  gate: Promise<void> | null = null;
  failCandidates = false;

  async setLocalDescription(): Promise<void> {
    await Promise.resolve();
    const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.calls.push(`local ${type}`);
    this.localDescription = description(type);
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.calls.push(`remote ${d.type} ${d.sdp}`);
    if (this.gate) await this.gate;
    if (d.type === 'offer' && this.signalingState === 'have-local-offer') this.calls.push('rollback');
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }

  async addIceCandidate(candidate?: RTCIceCandidateInit): Promise<void> {
    this.calls.push(`candidate ${candidate ? candidate.candidate : 'end'}`);
    if (this.failCandidates) throw new Error('no such ufrag');
  }
}

function setup(options: Partial<NegotiationOptions> = {}, extra: Partial<NegotiationHooks> = {}) {
  const pc = new FakePc();
  const sent: SignalData[] = [];
  const failures: NegotiationStep[] = [];
  const negotiation = new Negotiation(
    pc as unknown as RTCPeerConnection,
    { polite: false, endOfCandidates: false, ...options },
    { signal: (d) => sent.push(d), failed: (step) => failures.push(step), ...extra },
  );
  return { pc, sent, failures, negotiation };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const offer = (sdp = 'theirs'): SignalData => ({ description: { type: 'offer', sdp } });

describe('Negotiation', () => {
  it('offers when negotiation is needed', async () => {
    const { pc, sent } = setup();
    pc.onnegotiationneeded?.();
    await settle();
    expect(sent).toEqual([{ description: { type: 'offer', sdp: 'offer' } }]);
  });

  it("answers a remote offer, reading its tracks first and reporting when it's applied", async () => {
    const order: string[] = [];
    const { pc, sent, negotiation } = setup(
      {},
      {
        remoteOffer: (data) => order.push(`tracks ${data.tracks?.length} (${pc.calls.length} calls)`),
        applied: (d) => order.push(`applied ${d.type}`),
      },
    );
    await negotiation.receive({ ...offer(), tracks: [{ mid: '1', peerId: 'bob', kind: 'audio' }] });
    expect(pc.calls).toEqual(['remote offer theirs', 'local answer']);
    expect(sent).toEqual([{ description: { type: 'answer', sdp: 'answer' } }]);
    expect(order).toEqual(['tracks 1 (0 calls)', 'applied offer']);
  });

  it('impolite: ignores an offer that collides with its own, and the candidates that follow', async () => {
    const { pc, sent, failures, negotiation } = setup({ polite: false });
    pc.onnegotiationneeded?.();
    await settle();
    await negotiation.receive(offer());
    pc.failCandidates = true;
    await negotiation.receive({ candidate: { candidate: 'c1' } });
    expect(pc.calls).toEqual(['local offer', 'candidate c1']);
    expect(sent).toEqual([{ description: { type: 'offer', sdp: 'offer' } }]);
    expect(failures).toEqual([]);
    // Their answer to our offer still lands.
    await negotiation.receive({ description: { type: 'answer', sdp: 'their-answer' } });
    expect(pc.signalingState).toBe('stable');
  });

  it('polite: rolls its own offer back and answers the colliding one', async () => {
    const { pc, sent, negotiation } = setup({ polite: true });
    pc.onnegotiationneeded?.();
    await settle();
    await negotiation.receive(offer());
    expect(pc.calls).toEqual(['local offer', 'remote offer theirs', 'rollback', 'local answer']);
    expect(sent.at(-1)).toEqual({ description: { type: 'answer', sdp: 'answer' } });
  });

  it('applies remote signals one at a time, in arrival order', async () => {
    const { pc, negotiation } = setup({ polite: true });
    let open!: () => void;
    pc.gate = new Promise((resolve) => (open = resolve));
    const first = negotiation.receive(offer('one'));
    const second = negotiation.receive({ candidate: { candidate: 'c1' } });
    await settle();
    expect(pc.calls).toEqual(['remote offer one']);
    pc.gate = null;
    open();
    await Promise.all([first, second]);
    expect(pc.calls).toEqual(['remote offer one', 'local answer', 'candidate c1']);
  });

  it('adds end-of-candidates, and reports candidates that fail', async () => {
    const { pc, failures, negotiation } = setup({ polite: true });
    await negotiation.receive({ candidate: null });
    expect(pc.calls).toEqual(['candidate end']);
    pc.failCandidates = true;
    await negotiation.receive({ candidate: { candidate: 'c2' } });
    expect(failures).toEqual(['candidate']);
  });

  it('reports a description that cannot be applied', async () => {
    const { pc, failures, negotiation } = setup();
    pc.setRemoteDescription = () => Promise.reject(new Error('bad sdp'));
    await negotiation.receive(offer());
    expect(failures).toEqual(['signal']);
  });

  it('sends our candidates, and end-of-candidates only when asked to', () => {
    const candidate = { toJSON: () => ({ candidate: 'mine' }) };
    const mesh = setup({ endOfCandidates: false });
    mesh.pc.onicecandidate?.({ candidate });
    mesh.pc.onicecandidate?.({ candidate: null });
    expect(mesh.sent).toEqual([{ candidate: { candidate: 'mine' } }]);
    const sfu = setup({ endOfCandidates: true });
    sfu.pc.onicecandidate?.({ candidate: null });
    expect(sfu.sent).toEqual([{ candidate: null }]);
  });

  it('goes quiet once closed', async () => {
    const { pc, sent, failures, negotiation } = setup();
    negotiation.close();
    expect(pc.onnegotiationneeded).toBeNull();
    expect(pc.onicecandidate).toBeNull();
    await negotiation.receive(offer());
    expect(pc.calls).toEqual([]);
    expect(sent).toEqual([]);
    expect(failures).toEqual([]);
  });
});
