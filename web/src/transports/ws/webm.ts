// Just enough WebM to resynchronise a stream: where the first Cluster starts.
// A MediaRecorder chunk boundary can fall anywhere inside an element, so after
// a decoder error the player restarts from the cached initialization segment
// and the next Cluster, never from an arbitrary chunk.

export const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75] as const;

/** Offset of the first Cluster element ID in `bytes`, or -1. */
export function findClusterStart(bytes: Uint8Array, from = 0): number {
  const last = bytes.length - CLUSTER_ID.length;
  for (let i = from; i <= last; i++) {
    if (
      bytes[i] === CLUSTER_ID[0] &&
      bytes[i + 1] === CLUSTER_ID[1] &&
      bytes[i + 2] === CLUSTER_ID[2] &&
      bytes[i + 3] === CLUSTER_ID[3]
    ) {
      return i;
    }
  }
  return -1;
}

/** The initialization segment at the head of a stream's first bytes (everything before the first Cluster). */
export function initSegmentOf<T extends Uint8Array>(firstBytes: T): T {
  const cluster = findClusterStart(firstBytes);
  return cluster < 0 ? firstBytes : (firstBytes.subarray(0, cluster) as T);
}

/** True when a chunk starts a WebM stream (EBML header magic). */
export function startsWithEbmlHeader(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3;
}
