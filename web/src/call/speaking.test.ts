import { describe, expect, it } from 'vitest';
import { HOLD_MS, SPEAKING_OFF, SPEAKING_ON, SpeakingDetector } from './speaking';

/** Feed levels every 60 ms; the speaking flags seen. */
function run(levels: number[]): boolean[] {
  const detector = new SpeakingDetector();
  return levels.map((level, i) => detector.update(level, i * 60));
}

describe('SpeakingDetector', () => {
  it('starts at once on a loud sample', () => {
    expect(run([0, SPEAKING_ON, 0])).toEqual([false, true, true]);
  });

  it('does not start on a level between the thresholds', () => {
    expect(run(Array(20).fill((SPEAKING_ON + SPEAKING_OFF) / 2)).some(Boolean)).toBe(false);
  });

  it('keeps speaking through short pauses and quiet syllables (no flicker)', () => {
    const speech = [0.1, 0, 0, 0.02, 0.1, 0, 0, 0, 0.15, 0.02, 0.02, 0.1];
    expect(run(speech).slice(1)).toEqual(Array(speech.length - 1).fill(true));
  });

  it('stops only after HOLD_MS below the lower threshold', () => {
    const samples = Math.ceil(HOLD_MS / 60);
    const flags = run([0.1, ...Array(samples + 2).fill(0)]);
    expect(flags[samples - 1]).toBe(true);
    expect(flags.at(-1)).toBe(false);
  });

  it('speaks continuously for beeps every half second (the browser tests rely on it)', () => {
    const beeps = Array.from({ length: 60 }, (_, i) => (i % 8 === 0 ? 0.14 : 0.005));
    expect(run(beeps).every(Boolean)).toBe(true);
  });
});
