// What the UI renders of a call: one immutable snapshot, replaced on every change.

import type { MediaTransportKind } from '../protocol/messages';

export type Phase = 'idle' | 'starting' | 'connecting' | 'in-call' | 'reconnecting';

export type CallError =
  | { kind: 'server'; message: string }
  | { kind: 'media-denied' }
  | { kind: 'media-failed' }
  | { kind: 'unsupported'; missing: string[]; mode: MediaTransportKind }
  | { kind: 'disconnected' };

/**
 * One remote participant as the call screen shows it (one tile). The media
 * itself is not state: it goes straight into the tile's <video> through
 * `PeerVideos`. Per-participant call state (muted, camera off, speaking,
 * connection quality) belongs here.
 */
export interface Participant {
  id: string;
  name: string;
}

export interface CallState {
  phase: Phase;
  selfId: string | null;
  mode: MediaTransportKind | null;
  participants: Participant[];
  localStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  /** Seconds until the next reconnect attempt, while reconnecting. */
  reconnectIn: number | null;
  reconnected: boolean;
  error: CallError | null;
  playbackBlocked: boolean;
}

export const INITIAL: CallState = {
  phase: 'idle',
  selfId: null,
  mode: null,
  participants: [],
  localStream: null,
  micOn: true,
  camOn: true,
  reconnectIn: null,
  reconnected: false,
  error: null,
  playbackBlocked: false,
};
