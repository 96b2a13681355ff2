// What the UI renders of a call: one immutable snapshot, replaced on every change.

import type { MediaTransportKind, PeerState } from '../protocol/messages';
import type { LinkState } from '../transports/quality';
import type { MediaNotice } from './mediaControl';

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
 * `PeerVideos`.
 */
export interface Participant {
  id: string;
  name: string;
  /** What the participant reports (muted, camera off, sharing, speaking, its link);
   * null for a client that never reports: its tile shows no indicator. */
  state: PeerState | null;
  /** How its media reaches us, as our transport measures it (null: not known). */
  received: LinkState | null;
}

export interface CallState {
  phase: Phase;
  selfId: string | null;
  mode: MediaTransportKind | null;
  participants: Participant[];
  /** Our microphone and camera (the local tile). */
  localStream: MediaStream | null;
  /** The screen we share, while we do. */
  screenStream: MediaStream | null;
  hasMic: boolean;
  hasCamera: boolean;
  micOn: boolean;
  camOn: boolean;
  /** Our own microphone hears speech (with hysteresis). */
  speaking: boolean;
  /** Our own link, as our transport measures it (sfu: and as the server sees our downlink). */
  quality: LinkState | null;
  /** PeerVideos keys (a participant, or `screenKey` of one) whose video the server holds
   * back for our bandwidth: their tiles say so instead of freezing. */
  pausedVideos: string[];
  /** The devices in use (what the pickers show as selected). */
  micDevice: string | null;
  cameraDevice: string | null;
  /** Something about our own media to tell (no camera, a device lost, …). */
  notice: MediaNotice | null;
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
  screenStream: null,
  hasMic: false,
  hasCamera: false,
  micOn: true,
  camOn: true,
  speaking: false,
  quality: null,
  pausedVideos: [],
  micDevice: null,
  cameraDevice: null,
  notice: null,
  reconnectIn: null,
  reconnected: false,
  error: null,
  playbackBlocked: false,
};
