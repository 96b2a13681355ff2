import { describe, expect, it } from 'vitest';
import type { Bytes } from './appendQueue';
import { AFTER_FRAME_S, restartPlan, sameMediaType, spliceAt, spliceOffset, StreamHead, type PlayerState } from './splice';

const playing: PlayerState = {
  mimeType: 'video/webm;codecs=vp8,opus',
  open: true,
  buffered: true,
  recovering: false,
  failed: false,
};

describe('restartPlan', () => {
  it('splices a new stream of the same type onto a player that plays', () => {
    expect(restartPlan(playing, 'video/webm;codecs=vp8,opus')).toBe('splice');
    expect(restartPlan(playing, 'video/webm; codecs="vp8,opus"')).toBe('splice');
  });

  it('rebuilds for another type: a SourceBuffer takes only its own', () => {
    expect(restartPlan(playing, 'video/webm;codecs=vp9,opus')).toBe('rebuild');
    expect(restartPlan(playing, 'audio/webm;codecs=opus')).toBe('rebuild');
    const mp4 = { ...playing, mimeType: 'video/mp4' };
    expect(restartPlan(mp4, 'video/mp4')).toBe('rebuild'); // only WebM is read for its timecodes
  });

  it('rebuilds a player that does not play yet or is failing: nobody sees the difference', () => {
    expect(restartPlan({ ...playing, open: false }, playing.mimeType)).toBe('rebuild');
    expect(restartPlan({ ...playing, buffered: false }, playing.mimeType)).toBe('rebuild');
    expect(restartPlan({ ...playing, recovering: true }, playing.mimeType)).toBe('rebuild');
    expect(restartPlan({ ...playing, failed: true }, playing.mimeType)).toBe('rebuild');
  });
});

describe('splice helpers', () => {
  it('compares media types as a SourceBuffer would', () => {
    expect(sameMediaType('Video/WebM;codecs="vp8,opus"', 'video/webm; codecs=vp8,opus')).toBe(true);
    expect(sameMediaType('video/webm;codecs=vp8', 'video/webm;codecs=vp8,opus')).toBe(false);
  });

  it("starts the new stream at the buffer's end, or after a track that reaches past it", () => {
    expect(spliceAt(12.5, null, 0)).toBe(12.5); // no block seen (not WebM with blocks)
    expect(spliceAt(12.5, 2.4, 10)).toBe(12.5); // the last frame ends inside the buffer
    expect(spliceAt(12.5, 2.8, 10)).toBeCloseTo(12.8 + AFTER_FRAME_S, 9); // video beyond the audio
  });

  it('puts the new stream where it starts', () => {
    expect(spliceOffset(12.5, 0)).toBe(12.5);
    // A subscriber skipped ahead within the same stream: its clusters keep their times.
    expect(spliceOffset(12.5, 60)).toBe(-47.5);
  });
});

describe('StreamHead', () => {
  const bytes = (...values: number[]): Bytes => new Uint8Array(values);

  it('keeps a stream from its first byte and joins it', () => {
    const head = new StreamHead(10);
    head.add(bytes(1, 2));
    head.add(bytes(3));
    expect(head.chunks).toHaveLength(2);
    expect(Array.from(head.joined())).toEqual([1, 2, 3]);
    expect(head.intact).toBe(true);
  });

  it('lets go once the stream outgrows it, until the next stream', () => {
    const head = new StreamHead(4);
    head.add(bytes(1, 2, 3));
    head.add(bytes(4, 5));
    expect(head.intact).toBe(false);
    expect(head.chunks).toHaveLength(0);
    head.add(bytes(6)); // a gap would make it useless: it stays gone
    expect(head.chunks).toHaveLength(0);
    head.reset();
    head.add(bytes(7));
    expect(head.intact).toBe(true);
    expect(Array.from(head.joined())).toEqual([7]);
  });
});
