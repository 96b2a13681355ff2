import { describe, expect, it } from 'vitest';
import { isPolite } from './politeness';

describe('isPolite', () => {
  it('gives exactly one polite side per pair', () => {
    const ids = ['0b3c', 'f1a2', '7e00', '7e01'];
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b) expect(isPolite(a, b)).toBe(!isPolite(b, a));
      }
    }
  });

  it('refuses to compare an id with itself', () => {
    expect(() => isPolite('a', 'a')).toThrow();
  });
});
