// Participant state (docs/PROTOCOL.md): what we report about ourselves, and
// what the others report, applied to their tiles.

import type { ClientMessage, Peer, PeerState } from '../protocol/messages';
import type { LinkState } from '../transports/quality';
import type { CallState, Participant } from './state';

/** The server's refusal of a second screen (roomtone/errors.py). */
export const SCREEN_TAKEN = 'Someone else is already sharing a screen.';

export function sameState(a: PeerState | null, b: PeerState | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.mic === b.mic &&
    a.camera === b.camera &&
    a.screen === b.screen &&
    a.speaking === b.speaking &&
    a.quality === b.quality
  );
}

export function participantOf(peer: Peer, previous?: Participant): Participant {
  return { id: peer.id, name: peer.name, state: peer.state ?? null, received: previous?.received ?? null };
}

/** The roster with one participant's reported state replaced. */
export function withState(participants: Participant[], peerId: string, state: PeerState): Participant[] {
  return participants.map((p) => (p.id === peerId && !sameState(p.state, state) ? { ...p, state } : p));
}

/** The roster with what our transport measured; the same array when nothing changed. */
export function withReceived(participants: Participant[], measured: Record<string, LinkState>): Participant[] {
  let changed = false;
  const next = participants.map((p) => {
    const received = measured[p.id] ?? null;
    if (received === p.received) return p;
    changed = true;
    return { ...p, received };
  });
  return changed ? next : participants;
}

/** Who shares a screen now (the server allows one at a time). */
export function screenSharer(participants: Participant[]): Participant | null {
  return participants.find((p) => p.state?.screen) ?? null;
}

/** What we report about ourselves (docs/PROTOCOL.md, Participant state). */
export function ownState(s: CallState): PeerState {
  return {
    mic: s.hasMic && s.micOn,
    camera: s.hasCamera && s.camOn,
    screen: s.screenStream !== null,
    speaking: s.speaking && s.micOn,
    // The wire knows good/fair/poor; a link being restored is poor to the others.
    quality: s.quality === 'reconnecting' ? 'poor' : s.quality,
  };
}

/** Sends our state after each `welcome` and whenever it changes, never twice the same. */
export class StateReporter {
  private sent: PeerState | null = null;

  constructor(private readonly send: (message: ClientMessage) => void) {}

  /** A new socket: the next report goes out whatever was sent before. */
  reset(): void {
    this.sent = null;
  }

  report(state: PeerState): void {
    if (sameState(this.sent, state)) return;
    this.sent = state;
    this.send({ type: 'state', ...state });
  }
}
