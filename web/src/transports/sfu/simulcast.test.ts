import { describe, expect, it } from 'vitest';
import { layerCount, layerPlan, simulcastEncodings, withActive } from './simulcast';

describe('simulcast layers', () => {
  it('follows the browser limit on layers per capture size', () => {
    expect(layerCount(1280, 720)).toBe(3);
    expect(layerCount(960, 540)).toBe(3);
    expect(layerCount(640, 480)).toBe(2);
    expect(layerCount(480, 270)).toBe(2);
    expect(layerCount(320, 240)).toBe(1);
  });

  it('keeps the full resolution as the top layer whatever the count', () => {
    expect(layerPlan(1280, 720)?.map((l) => [l.rid, l.scaleResolutionDownBy])).toEqual([
      ['q', 4],
      ['h', 2],
      ['f', 1],
    ]);
    expect(layerPlan(640, 480)?.map((l) => [l.rid, l.scaleResolutionDownBy])).toEqual([
      ['h', 2],
      ['f', 1],
    ]);
    expect(layerPlan(320, 240)).toBeNull();
    expect(simulcastEncodings(320, 240)).toBeNull();
  });

  it('keeps the lowest layer small enough for two videos and audio in 500 kbit/s', () => {
    for (const [w, h] of [
      [1280, 720],
      [640, 480],
    ]) {
      const lowest = layerPlan(w, h)![0];
      expect(2 * lowest.maxBitrate + 2 * 45_000).toBeLessThanOrEqual(0.7 * 500_000);
    }
  });

  it('switches encodings on and off as the server asks, never the lowest', () => {
    const encodings = simulcastEncodings(1280, 720)!;
    const onlyQ = withActive(encodings, ['q'])!;
    expect(onlyQ.map((e) => e.active)).toEqual([true, false, false]);
    expect(withActive(onlyQ, ['q'])).toBeNull(); // nothing changes
    expect(withActive(onlyQ, [])).toBeNull(); // the lowest stays on
    expect(withActive(onlyQ, ['q', 'f'])!.map((e) => e.active)).toEqual([true, false, true]);
    expect(withActive(onlyQ, ['h', 'f'])!.map((e) => e.active)).toEqual([true, true, true]);
  });
});
