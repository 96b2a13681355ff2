// Which received track belongs to which participant in SFU mode: every server
// offer carries `tracks` (mid → peerId, kind, and `source` for a shared
// screen); transceivers are matched by mid. A screen goes to its own
// PeerVideos key, apart from the participant's camera and microphone.

import { parseSfuTrack, type SfuTrack, type TrackInfo } from '../../protocol/messages';
import { screenKey } from '../peerVideos';

export interface ReceivingTransceiver<T> {
  mid: string | null;
  /** currentDirection (or direction before the first answer). */
  direction: string | null;
  track: T;
}

function receives(direction: string | null): boolean {
  return direction === null || direction === 'recvonly' || direction === 'sendrecv';
}

/** The PeerVideos key a track is shown under: its participant, or the participant's screen. */
export function videoKeyOf(track: SfuTrack): string {
  return track.source === 'screen' ? screenKey(track.peerId) : track.peerId;
}

/** The tracks each key (participant, or a participant's screen) should show, in transceiver order. */
export function tracksByPeer<T>(
  transceivers: ReceivingTransceiver<T>[],
  mapping: ReadonlyMap<string, SfuTrack>,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of transceivers) {
    if (t.mid === null || !receives(t.direction)) continue;
    const info = mapping.get(t.mid);
    if (!info) continue;
    const key = videoKeyOf(info);
    const list = out.get(key) ?? [];
    list.push(t.track);
    out.set(key, list);
  }
  return out;
}

/** mid → track, for the entries that name a participant (the SFU's own `tracks`). */
export function mappingFrom(tracks: TrackInfo[]): Map<string, SfuTrack> {
  const mapping = new Map<string, SfuTrack>();
  for (const t of tracks) {
    const track = parseSfuTrack(t);
    if (track) mapping.set(track.mid, track);
  }
  return mapping;
}

/** Minimal add/remove to make `current` hold exactly `wanted`. */
export function diffTracks<T>(current: T[], wanted: T[]): { add: T[]; remove: T[] } {
  return {
    add: wanted.filter((t) => !current.includes(t)),
    remove: current.filter((t) => !wanted.includes(t)),
  };
}

/**
 * The PeerVideos keys whose video the server paused for bandwidth (`video-paused`): its
 * mids mapped through `tracks`; a mid we cannot map (yet) or an audio one is left out.
 */
export function pausedKeys(mids: Iterable<string>, mapping: ReadonlyMap<string, SfuTrack>): string[] {
  const keys = new Set<string>();
  for (const mid of mids) {
    const track = mapping.get(mid);
    if (track?.kind === 'video') keys.add(videoKeyOf(track));
  }
  return [...keys].sort();
}
