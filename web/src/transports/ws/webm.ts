// Just enough WebM to resynchronise a stream and to splice a new one onto it:
// where the first Cluster starts and which timecode it has. A MediaRecorder
// chunk boundary can fall anywhere inside an element, so after a decoder error
// the player restarts from the cached initialization segment and the next
// Cluster, never from an arbitrary chunk.

export const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75] as const;

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMECODE_SCALE = 0x2ad7b1;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
/** Nanoseconds per timecode tick when Info has no TimecodeScale (MediaRecorder writes 1 ms). */
const DEFAULT_TIMECODE_SCALE = 1_000_000;

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

/** Where a stream's media begins: the end of its init segment and its first Cluster's time. */
export interface StreamStart {
  /** Byte offset of the first Cluster (= length of the initialization segment). */
  initEnd: number;
  /** The first Cluster's timecode, in seconds. */
  firstTime: number;
}

/** `more`: the bytes end before the first Cluster's Timecode; `invalid`: not a WebM stream start. */
export type StreamStartResult = StreamStart | 'more' | 'invalid';

interface ElementHeader {
  id: number;
  /** Offset of the element's body. */
  body: number;
  /** Body size; null when unknown (live streams leave Segment and Cluster open). */
  size: number | null;
}

/** A variable-length integer at `at`: [value, length, all value bits set]; null if cut off, 'invalid' if malformed. */
function readVint(bytes: Uint8Array, at: number, maxLength: number, keepMarker: boolean): [number, number, boolean] | null | 'invalid' {
  if (at >= bytes.length) return null;
  const first = bytes[at];
  let length = 1;
  let marker = 0x80;
  while (length <= maxLength && (first & marker) === 0) {
    marker >>= 1;
    length += 1;
  }
  if (length > maxLength) return 'invalid';
  if (at + length > bytes.length) return null;
  let value = keepMarker ? first : first & (marker - 1);
  let allOnes = (first & (marker - 1)) === marker - 1;
  for (let i = 1; i < length; i++) {
    const byte = bytes[at + i];
    value = value * 256 + byte;
    if (byte !== 0xff) allOnes = false;
  }
  return [value, length, allOnes];
}

function readElementHeader(bytes: Uint8Array, at: number): ElementHeader | null | 'invalid' {
  const id = readVint(bytes, at, 4, true);
  if (id === null || id === 'invalid') return id;
  const size = readVint(bytes, at + id[1], 8, false);
  if (size === null || size === 'invalid') return size;
  return { id: id[0], body: at + id[1] + size[1], size: size[2] ? null : size[0] };
}

function readUint(bytes: Uint8Array, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 256 + bytes[i];
  return value;
}

/**
 * Read a WebM stream's start: EBML header, Segment, its level-1 elements up to
 * the first Cluster, and that Cluster's Timecode (scaled by Info's
 * TimecodeScale). Only Segment, Info and Cluster are entered; everything else
 * is skipped by its size, so it needs no more than the elements' headers.
 */
export function readStreamStart(bytes: Uint8Array): StreamStartResult {
  let scale = DEFAULT_TIMECODE_SCALE;
  let clusterAt = -1;
  let at = 0;
  for (;;) {
    const header = readElementHeader(bytes, at);
    if (header === null) return 'more';
    if (header === 'invalid') return 'invalid';
    const { id, body, size } = header;
    if (at === 0 && id !== EBML_HEADER) return 'invalid';
    if (id === SEGMENT || id === INFO || id === CLUSTER) {
      if (id === CLUSTER) clusterAt = at;
      at = body; // enter: its children follow
      continue;
    }
    if (size === null) return 'invalid'; // only Segment and Cluster may be open-ended here
    if (body + size > bytes.length && (id === TIMECODE || id === TIMECODE_SCALE)) return 'more';
    if (id === TIMECODE_SCALE) scale = readUint(bytes, body, body + size) || DEFAULT_TIMECODE_SCALE;
    if (id === TIMECODE && clusterAt >= 0) {
      return { initEnd: clusterAt, firstTime: (readUint(bytes, body, body + size) * scale) / 1e9 };
    }
    at = body + size;
  }
}

/**
 * The time of the newest block of a stream, followed chunk by chunk. A splice
 * must not put the new stream's first keyframe before a frame the browser may
 * already have read (see player.ts), and `buffered` only tells where every
 * track has media, not where the longest one ends. The relay sends whole
 * elements per packet, so each chunk is read on its own; one that does not
 * parse (a rare piece split across packets) is skipped.
 */
export class BlockClock {
  private scale = DEFAULT_TIMECODE_SCALE;
  private clusterTime: number | null = null;
  /** Seconds, on the stream's own timeline; null until a block was seen. */
  latest: number | null = null;

  /** A new stream begins. */
  reset(): void {
    this.scale = DEFAULT_TIMECODE_SCALE;
    this.clusterTime = null;
    this.latest = null;
  }

  feed(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const header = readElementHeader(bytes, at);
      if (header === null || header === 'invalid') return;
      const { id, body, size } = header;
      if (id === SEGMENT || id === INFO || id === CLUSTER || id === BLOCK_GROUP) {
        at = body; // enter
        continue;
      }
      if (size === null || body + size > bytes.length) return;
      if (id === TIMECODE_SCALE) this.scale = readUint(bytes, body, body + size) || DEFAULT_TIMECODE_SCALE;
      else if (id === TIMECODE) this.clusterTime = readUint(bytes, body, body + size);
      else if ((id === SIMPLE_BLOCK || id === BLOCK) && this.clusterTime !== null) this.noteBlock(bytes, body, body + size);
      at = body + size;
    }
  }

  private noteBlock(bytes: Uint8Array, from: number, to: number): void {
    const track = readVint(bytes, from, 8, false);
    if (track === null || track === 'invalid' || from + track[1] + 2 > to) return;
    const at = from + track[1];
    const relative = ((bytes[at] << 8) | bytes[at + 1]) << 16 >> 16; // signed 16-bit
    const time = ((this.clusterTime as number) + relative) * this.scale / 1e9;
    if (this.latest === null || time > this.latest) this.latest = time;
  }
}
