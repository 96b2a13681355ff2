// Binary media packets of WS mode: server → client frames are
// [0x01][idLen][peer id, idLen bytes UTF-8][chunk]; client → server frames are
// the bare MediaRecorder chunk.

export const PACKET_VERSION = 0x01;
export const MAX_ID_BYTES = 120;

export interface MediaPacket {
  peerId: string;
  /** A view into the received buffer (no copy). */
  chunk: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parse a server media packet; null if malformed (wrong version, bad length, bad UTF-8, empty chunk). */
export function parseMediaPacket(data: ArrayBuffer | Uint8Array<ArrayBuffer>): MediaPacket | null {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 3 || bytes[0] !== PACKET_VERSION) return null;
  const idLen = bytes[1];
  if (idLen < 1 || idLen > MAX_ID_BYTES || bytes.length <= 2 + idLen) return null;
  let peerId: string;
  try {
    peerId = decoder.decode(bytes.subarray(2, 2 + idLen));
  } catch {
    return null;
  }
  return { peerId, chunk: bytes.subarray(2 + idLen) };
}

/** Build a server-style media packet (used by tests and tools). */
export function buildMediaPacket(peerId: string, chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  const id = encoder.encode(peerId);
  if (id.length < 1 || id.length > MAX_ID_BYTES) throw new RangeError('peer id must be 1–120 bytes');
  const out = new Uint8Array(2 + id.length + chunk.length);
  out[0] = PACKET_VERSION;
  out[1] = id.length;
  out.set(id, 2);
  out.set(chunk, 2 + id.length);
  return out;
}
