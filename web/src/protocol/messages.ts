// Messages of the Roomtone wire protocol (docs/PROTOCOL.md is the contract).
// Server messages are parsed defensively: anything malformed yields null and is
// ignored, so a newer server adding fields never breaks this client.

export type MediaTransportKind = 'ws' | 'webrtc' | 'sfu';

/** A connection as its own client judges it (docs/PROTOCOL.md, Participant state). */
export type Quality = 'good' | 'fair' | 'poor';

/** What a participant reports about itself in `state` messages. */
export interface PeerState {
  mic: boolean;
  camera: boolean;
  screen: boolean;
  speaking: boolean;
  quality: Quality | null;
}

export interface Peer {
  id: string;
  name: string;
  /** Present once the participant has reported a state (never, for older clients). */
  state?: PeerState;
}

export interface MediaPeer {
  id: string;
  mimeType: string;
}

/** What an m-line carries besides a microphone or camera. */
export type TrackSource = 'screen';

/**
 * One entry of a signal's `tracks`: from the SFU, which participant an m-line
 * carries (`peerId`); from a client, a label for one of its own m-lines.
 */
export interface TrackInfo {
  mid: string;
  kind: 'audio' | 'video';
  peerId?: string;
  source?: TrackSource;
}

export interface SfuTrack extends TrackInfo {
  peerId: string;
}

export interface SignalData {
  description?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit | null;
  tracks?: TrackInfo[];
}

export interface Welcome {
  type: 'welcome';
  id: string;
  participants: Peer[];
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
  mediaTransport: MediaTransportKind | null;
  mediaPeers: MediaPeer[];
}

export type ServerMessage =
  | Welcome
  | { type: 'peer-joined'; peer: Peer }
  | { type: 'peer-left'; peerId: string }
  | { type: 'error'; message: string }
  | { type: 'entropy' }
  | { type: 'media-start'; peerId: string; mimeType: string }
  | { type: 'media-stop'; peerId: string }
  // ws mode: someone waits for a keyframe of our stream (start a fresh recording).
  | { type: 'media-keyframe' }
  | { type: 'signal'; from: string; data: SignalData }
  | { type: 'state'; peerId: string; state: PeerState }
  // sfu mode (docs/PROTOCOL.md, "Bandwidth and simulcast"): our receiving video m-lines
  // paused for bandwidth, the server's view of our downlink, and which of our simulcast
  // layers anyone receives.
  | { type: 'video-paused'; mids: string[] }
  | { type: 'link-quality'; quality: Quality; kbps: number | null }
  | { type: 'layers'; mid: string; active: string[] };

export type ClientMessage =
  | { type: 'join'; name: string }
  | { type: 'entropy'; bytes: number; data: string }
  | { type: 'media-start'; mimeType: string }
  | { type: 'media-stop' }
  | { type: 'signal'; to: string; data: SignalData }
  | ({ type: 'state' } & PeerState);

export const MAX_NAME_LENGTH = 40;
export const SFU_PEER_ID = 'sfu';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

export function isMediaTransport(value: unknown): value is MediaTransportKind {
  return value === 'ws' || value === 'webrtc' || value === 'sfu';
}

function isQuality(value: unknown): value is Quality {
  return value === 'good' || value === 'fair' || value === 'poor';
}

/** The fields of a state as the server relays them; null when one is malformed. */
export function parsePeerState(value: unknown): PeerState | null {
  if (!isObject(value)) return null;
  const { mic, camera, screen, speaking, quality } = value;
  if (typeof mic !== 'boolean' || typeof camera !== 'boolean') return null;
  if (typeof screen !== 'boolean' || typeof speaking !== 'boolean') return null;
  return { mic, camera, screen, speaking, quality: isQuality(quality) ? quality : null };
}

function parsePeer(value: unknown): Peer | null {
  if (!isObject(value) || !nonEmptyString(value.id)) return null;
  const peer: Peer = { id: value.id, name: typeof value.name === 'string' ? value.name : '' };
  const state = parsePeerState(value.state);
  if (state) peer.state = state;
  return peer;
}

function parseList<T>(value: unknown, item: (v: unknown) => T | null): T[] {
  if (!Array.isArray(value)) return [];
  const out: T[] = [];
  for (const v of value) {
    const parsed = item(v);
    if (parsed !== null) out.push(parsed);
  }
  return out;
}

function parseMediaPeer(value: unknown): MediaPeer | null {
  if (!isObject(value) || !nonEmptyString(value.id) || !nonEmptyString(value.mimeType)) return null;
  return { id: value.id, mimeType: value.mimeType };
}

function parseIceServer(value: unknown): RTCIceServer | null {
  if (!isObject(value)) return null;
  const urls = value.urls;
  const validUrls =
    nonEmptyString(urls) || (Array.isArray(urls) && urls.length > 0 && urls.every(nonEmptyString));
  if (!validUrls) return null;
  const server: RTCIceServer = { urls: urls as string | string[] };
  if (typeof value.username === 'string') server.username = value.username;
  if (typeof value.credential === 'string') server.credential = value.credential;
  return server;
}

/** An m-line's mid: a non-empty string (a number is taken as its decimal text). */
function midOf(value: unknown): string | null {
  const mid = typeof value === 'number' ? String(value) : value;
  return nonEmptyString(mid) ? mid : null;
}

export function parseTrackInfo(value: unknown): TrackInfo | null {
  if (!isObject(value)) return null;
  const mid = midOf(value.mid);
  if (mid === null) return null;
  if (value.kind !== 'audio' && value.kind !== 'video') return null;
  const track: TrackInfo = { mid, kind: value.kind };
  if (nonEmptyString(value.peerId)) track.peerId = value.peerId;
  if (value.source === 'screen') track.source = 'screen';
  return track;
}

export function parseSfuTrack(value: unknown): SfuTrack | null {
  const track = parseTrackInfo(value);
  return track && track.peerId !== undefined ? (track as SfuTrack) : null;
}

function parseSignalData(value: unknown): SignalData | null {
  if (!isObject(value)) return null;
  const data: SignalData = {};
  if ('description' in value) {
    const d = value.description;
    if (!isObject(d) || !nonEmptyString(d.type)) return null;
    data.description = { type: d.type as RTCSdpType, sdp: typeof d.sdp === 'string' ? d.sdp : '' };
  }
  if ('candidate' in value) {
    const c = value.candidate;
    if (c === null) data.candidate = null;
    else if (isObject(c)) data.candidate = c as RTCIceCandidateInit;
    else return null;
  }
  if ('tracks' in value) data.tracks = parseList(value.tracks, parseTrackInfo);
  return data;
}

/** Parse one text frame from the server; null when it is not a message we understand. */
export function parseServerMessage(text: string): ServerMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(raw) || typeof raw.type !== 'string') return null;
  switch (raw.type) {
    case 'welcome': {
      if (!nonEmptyString(raw.id)) return null;
      return {
        type: 'welcome',
        id: raw.id,
        participants: parseList(raw.participants, parsePeer),
        iceServers: parseList(raw.iceServers, parseIceServer),
        iceTransportPolicy: raw.iceTransportPolicy === 'relay' ? 'relay' : 'all',
        mediaTransport: isMediaTransport(raw.mediaTransport) ? raw.mediaTransport : null,
        mediaPeers: parseList(raw.mediaPeers, parseMediaPeer),
      };
    }
    case 'peer-joined': {
      const peer = parsePeer(raw.peer);
      return peer ? { type: 'peer-joined', peer } : null;
    }
    case 'peer-left':
      return nonEmptyString(raw.peerId) ? { type: 'peer-left', peerId: raw.peerId } : null;
    case 'error':
      return { type: 'error', message: typeof raw.message === 'string' ? raw.message : 'Error.' };
    case 'entropy':
      return { type: 'entropy' };
    case 'media-start':
      if (!nonEmptyString(raw.peerId) || !nonEmptyString(raw.mimeType)) return null;
      return { type: 'media-start', peerId: raw.peerId, mimeType: raw.mimeType };
    case 'media-stop':
      return nonEmptyString(raw.peerId) ? { type: 'media-stop', peerId: raw.peerId } : null;
    case 'media-keyframe':
      return { type: 'media-keyframe' };
    case 'signal': {
      const data = parseSignalData(raw.data);
      if (!nonEmptyString(raw.from) || data === null) return null;
      return { type: 'signal', from: raw.from, data };
    }
    case 'state': {
      const state = parsePeerState(raw);
      if (!nonEmptyString(raw.peerId) || state === null) return null;
      return { type: 'state', peerId: raw.peerId, state };
    }
    case 'video-paused':
      return Array.isArray(raw.mids) ? { type: 'video-paused', mids: parseList(raw.mids, midOf) } : null;
    case 'link-quality': {
      if (!isQuality(raw.quality)) return null;
      const kbps = typeof raw.kbps === 'number' && Number.isFinite(raw.kbps) ? raw.kbps : null;
      return { type: 'link-quality', quality: raw.quality, kbps };
    }
    case 'layers': {
      const mid = midOf(raw.mid);
      if (mid === null || !Array.isArray(raw.active)) return null;
      return { type: 'layers', mid, active: parseList(raw.active, (v) => (nonEmptyString(v) ? v : null)) };
    }
    default:
      return null;
  }
}

/** The name as the server will store it: trimmed, at most 40 characters. */
export function cleanName(name: string): string {
  return Array.from(name.trim()).slice(0, MAX_NAME_LENGTH).join('').trim();
}
