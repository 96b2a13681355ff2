import { describe, expect, it } from 'vitest';
import { buildMediaPacket, parseMediaPacket } from './packet';

describe('media packets', () => {
  it('round-trips id and chunk', () => {
    const chunk = new Uint8Array([1, 2, 3, 250]);
    const packet = buildMediaPacket('peer-1', chunk);
    expect(Array.from(packet.subarray(0, 2))).toEqual([1, 6]);
    const parsed = parseMediaPacket(packet.buffer);
    expect(parsed?.peerId).toBe('peer-1');
    expect(Array.from(parsed!.chunk)).toEqual([1, 2, 3, 250]);
  });

  it('handles UTF-8 ids and a 120-byte id', () => {
    const id = 'ж'.repeat(60); // 120 bytes
    const parsed = parseMediaPacket(buildMediaPacket(id, new Uint8Array([9])));
    expect(parsed?.peerId).toBe(id);
    expect(() => buildMediaPacket('x'.repeat(121), new Uint8Array([1]))).toThrow(RangeError);
    expect(() => buildMediaPacket('', new Uint8Array([1]))).toThrow(RangeError);
  });

  it('returns a view without copying', () => {
    const packet = buildMediaPacket('a', new Uint8Array([7, 8]));
    const parsed = parseMediaPacket(packet);
    expect(parsed!.chunk.buffer).toBe(packet.buffer);
    expect(parsed!.chunk.byteOffset).toBe(3);
  });

  it('rejects malformed packets', () => {
    const bad = [
      new Uint8Array([]),
      new Uint8Array([2, 1, 97, 0]), // wrong version
      new Uint8Array([1, 0, 0]), // empty id
      new Uint8Array([1, 121, ...new Uint8Array(122)]), // id too long
      new Uint8Array([1, 5, 97, 98]), // truncated id
      new Uint8Array([1, 1, 97]), // empty chunk
      new Uint8Array([1, 2, 0xc3, 0x28, 0]), // invalid UTF-8
    ];
    for (const bytes of bad) expect(parseMediaPacket(bytes)).toBeNull();
  });
});
