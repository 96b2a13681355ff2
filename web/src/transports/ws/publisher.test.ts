import { describe, expect, it } from 'vitest';
import { chooseMimeType, CongestionMonitor } from './publisher';

describe('chooseMimeType', () => {
  it('prefers VP8 + Opus, then VP9', () => {
    expect(chooseMimeType(true, () => true)).toBe('video/webm;codecs=vp8,opus');
    expect(chooseMimeType(true, (t) => t.includes('vp9'))).toBe('video/webm;codecs=vp9,opus');
  });

  it('records audio only without a camera, video only without a microphone', () => {
    expect(chooseMimeType(false, () => true)).toBe('audio/webm;codecs=opus');
    expect(chooseMimeType(true, () => true, false)).toBe('video/webm;codecs=vp8');
  });

  it('returns null when nothing fits (e.g. Safari, mp4 only)', () => {
    expect(chooseMimeType(true, (t) => t.startsWith('video/mp4'))).toBeNull();
  });
});

describe('CongestionMonitor', () => {
  it('restarts only when the backlog stays high', () => {
    const m = new CongestionMonitor(1000, 2000);
    expect(m.update(5000, 0)).toBe(false);
    expect(m.update(5000, 1500)).toBe(false);
    expect(m.update(10, 1800)).toBe(false); // drained: the clock resets
    expect(m.update(5000, 1900)).toBe(false);
    expect(m.update(5000, 3800)).toBe(false);
    expect(m.update(5000, 3900)).toBe(true);
    expect(m.update(5000, 4000)).toBe(false); // counted afresh after a restart
  });
});
