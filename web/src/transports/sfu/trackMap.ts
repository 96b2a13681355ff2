// Which received track belongs to which participant in SFU mode: every server
// offer carries `tracks` (mid → peerId, kind); transceivers are matched by mid.

import type { SfuTrack } from '../../protocol/messages';

export interface ReceivingTransceiver<T> {
  mid: string | null;
  /** currentDirection (or direction before the first answer). */
  direction: string | null;
  track: T;
}

function receives(direction: string | null): boolean {
  return direction === null || direction === 'recvonly' || direction === 'sendrecv';
}

/** The tracks each participant should show, in transceiver order. */
export function tracksByPeer<T>(
  transceivers: ReceivingTransceiver<T>[],
  mapping: ReadonlyMap<string, SfuTrack>,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of transceivers) {
    if (t.mid === null || !receives(t.direction)) continue;
    const info = mapping.get(t.mid);
    if (!info) continue;
    const list = out.get(info.peerId) ?? [];
    list.push(t.track);
    out.set(info.peerId, list);
  }
  return out;
}

export function mappingFrom(tracks: SfuTrack[]): Map<string, SfuTrack> {
  return new Map(tracks.map((t) => [t.mid, t]));
}

/** Minimal add/remove to make `current` hold exactly `wanted`. */
export function diffTracks<T>(current: T[], wanted: T[]): { add: T[]; remove: T[] } {
  return {
    add: wanted.filter((t) => !current.includes(t)),
    remove: current.filter((t) => !wanted.includes(t)),
  };
}
