import { describe, expect, it } from 'vitest';
import { findClusterStart, initSegmentOf, startsWithEbmlHeader } from './webm';

const EBML = [0x1a, 0x45, 0xdf, 0xa3];
const CLUSTER = [0x1f, 0x43, 0xb6, 0x75];

describe('webm helpers', () => {
  it('finds the first cluster', () => {
    const data = new Uint8Array([...EBML, 0x80, 1, 2, ...CLUSTER, 9, ...CLUSTER]);
    expect(findClusterStart(data)).toBe(7);
    expect(findClusterStart(data, 8)).toBe(12);
    expect(findClusterStart(new Uint8Array([0x1f, 0x43, 0xb6]))).toBe(-1);
  });

  it('cuts the init segment before the first cluster', () => {
    const data = new Uint8Array([...EBML, 5, 6, ...CLUSTER, 7]);
    expect(Array.from(initSegmentOf(data))).toEqual([...EBML, 5, 6]);
    const initOnly = new Uint8Array([...EBML, 5]);
    expect(initSegmentOf(initOnly)).toBe(initOnly);
  });

  it('recognises the EBML header', () => {
    expect(startsWithEbmlHeader(new Uint8Array(EBML))).toBe(true);
    expect(startsWithEbmlHeader(new Uint8Array(CLUSTER))).toBe(false);
  });
});
