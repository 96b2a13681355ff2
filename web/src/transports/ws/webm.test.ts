import { describe, expect, it } from 'vitest';
import { BlockClock, findClusterStart, initSegmentOf, readStreamStart, startsWithEbmlHeader } from './webm';

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

describe('readStreamStart', () => {
  const UNKNOWN = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  const header = [...EBML, 0x84, 0x42, 0x82, 0x81, 0x77]; // EBML header: DocType (body cut short, skipped by size)
  const info = (scaleNs?: number[]) => {
    const scale = scaleNs ? [0x2a, 0xd7, 0xb1, 0x80 | scaleNs.length, ...scaleNs] : [];
    const body = [...scale, 0x4d, 0x80, 0x81, 0x41]; // + MuxingApp
    return [0x15, 0x49, 0xa9, 0x66, 0x80 | body.length, ...body];
  };
  const tracks = [0x16, 0x54, 0xae, 0x6b, 0x83, 0xae, 0x81, 0x00];
  const cluster = (timecode: number[]) => [...CLUSTER, ...UNKNOWN, 0xbf, 0x81, 0x00, 0xe7, 0x80 | timecode.length, ...timecode, 0xa3];
  const stream = (infoBytes: number[], timecode: number[]) => {
    const segment = [0x18, 0x53, 0x80, 0x67, ...UNKNOWN, ...infoBytes, ...tracks];
    return { init: [...header, ...segment], all: new Uint8Array([...header, ...segment, ...cluster(timecode)]) };
  };

  it("finds the init segment's end and the first Cluster's time", () => {
    const { init, all } = stream(info(), [0x01, 0xf4]); // 500 ticks of 1 ms
    expect(readStreamStart(all)).toEqual({ initEnd: init.length, firstTime: 0.5 });
  });

  it("scales by Info's TimecodeScale", () => {
    const { all } = stream(info([0x01, 0x86, 0xa0]), [0x03, 0xe8]); // 1000 ticks of 100 µs
    expect(readStreamStart(all)).toEqual(expect.objectContaining({ firstTime: 0.1 }));
  });

  it('asks for more bytes until the Timecode is whole, and refuses what is not WebM', () => {
    const { all } = stream(info(), [0x01, 0xf4]);
    for (const cut of [0, 3, 20, all.length - 3, all.length - 2]) {
      expect(readStreamStart(all.subarray(0, cut))).toBe('more');
    }
    expect(readStreamStart(new Uint8Array([...CLUSTER, 0x80]))).toBe('invalid');
    expect(readStreamStart(new Uint8Array([...EBML, 0x00, 0x00]))).toBe('invalid');
    // An unknown size where the reader must skip: it cannot tell where the element ends.
    expect(readStreamStart(new Uint8Array([...EBML, 0x80, 0x18, 0x53, 0x80, 0x67, ...UNKNOWN, 0xec, ...UNKNOWN]))).toBe('invalid');
  });
});

describe('BlockClock', () => {
  const UNKNOWN = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  const clusterAt = (ms: number) => [...CLUSTER, ...UNKNOWN, 0xe7, 0x82, ms >> 8, ms & 0xff];
  const simpleBlock = (track: number, relative: number) => [0xa3, 0x85, 0x80 | track, (relative >> 8) & 0xff, relative & 0xff, 0x80, 0x00];
  const blockGroup = (track: number, relative: number) => [0xa0, 0x87, 0xa1, 0x85, 0x80 | track, (relative >> 8) & 0xff, relative & 0xff, 0x00, 0x00];

  it('follows the newest block of any track, chunk by chunk', () => {
    const clock = new BlockClock();
    clock.feed(new Uint8Array([...EBML, 0x80, 0x18, 0x53, 0x80, 0x67, ...UNKNOWN, 0x15, 0x49, 0xa9, 0x66, 0x84, 0x2a, 0xd7, 0xb1, 0x80]));
    expect(clock.latest).toBeNull();
    clock.feed(new Uint8Array([...clusterAt(1000), ...simpleBlock(1, 0), ...simpleBlock(2, 40)]));
    expect(clock.latest).toBeCloseTo(1.04, 9);
    clock.feed(new Uint8Array([...simpleBlock(1, 350), ...simpleBlock(2, -10), ...blockGroup(2, 300)]));
    expect(clock.latest).toBeCloseTo(1.35, 9);
    clock.feed(new Uint8Array([0x12, 0x34])); // not whole elements: ignored
    clock.feed(new Uint8Array([...simpleBlock(1, 400)]).subarray(0, 4)); // cut short: ignored
    expect(clock.latest).toBeCloseTo(1.35, 9);
    clock.reset();
    expect(clock.latest).toBeNull();
  });
});
