import { describe, expect, it } from 'vitest';
import {
  ENTROPY_MAX_BYTES,
  ENTROPY_MAX_INTERVAL_MS,
  ENTROPY_MIN_BYTES,
  ENTROPY_MIN_INTERVAL_MS,
  entropyMessage,
  nextEntropyDelay,
  toBase64,
} from './entropy';

describe('entropy keepalive', () => {
  it('sends 128–1024 random bytes as base64', () => {
    for (const r of [0, 0.5, 0.999999]) {
      const msg = entropyMessage(() => r);
      expect(msg.type).toBe('entropy');
      expect(msg.bytes).toBeGreaterThanOrEqual(ENTROPY_MIN_BYTES);
      expect(msg.bytes).toBeLessThanOrEqual(ENTROPY_MAX_BYTES);
      expect(atob(msg.data)).toHaveLength(msg.bytes);
    }
    expect(entropyMessage(() => 0).bytes).toBe(128);
    expect(entropyMessage(() => 0.999999).bytes).toBe(1024);
  });

  it('uses fresh random bytes', () => {
    expect(entropyMessage().data).not.toBe(entropyMessage().data);
  });

  it('waits 1.5–3.5 s between sends', () => {
    expect(nextEntropyDelay(() => 0)).toBe(ENTROPY_MIN_INTERVAL_MS);
    expect(nextEntropyDelay(() => 1)).toBe(ENTROPY_MAX_INTERVAL_MS);
    const d = nextEntropyDelay();
    expect(d).toBeGreaterThanOrEqual(1500);
    expect(d).toBeLessThanOrEqual(3500);
  });

  it('round-trips large buffers through base64', () => {
    const bytes = new Uint8Array(70000).map((_, i) => (i * 7) & 0xff);
    const decoded = Uint8Array.from(atob(toBase64(bytes)), (c) => c.charCodeAt(0));
    expect(decoded).toEqual(bytes);
    expect(toBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
  });
});
