import { describe, expect, it } from 'vitest';
import { pickMediaSource } from './mediaSource';

class Plain {}
class Managed {}

describe('pickMediaSource', () => {
  it('prefers MediaSource', () => {
    expect(pickMediaSource({ MediaSource: Plain, ManagedMediaSource: Managed })).toBe(Plain);
  });

  it('uses ManagedMediaSource where MediaSource is missing (iOS Safari 17.1+)', () => {
    expect(pickMediaSource({ ManagedMediaSource: Managed })).toBe(Managed);
  });

  it('finds none in a browser without either', () => {
    expect(pickMediaSource({})).toBeNull();
    expect(pickMediaSource({ MediaSource: {} })).toBeNull();
  });
});
