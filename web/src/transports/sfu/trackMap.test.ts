import { describe, expect, it } from 'vitest';
import { screenKey } from '../peerVideos';
import { diffTracks, mappingFrom, pausedKeys, tracksByPeer } from './trackMap';

describe('SFU track mapping', () => {
  const mapping = mappingFrom([
    { mid: '2', peerId: 'alice', kind: 'audio' },
    { mid: '3', peerId: 'alice', kind: 'video' },
    { mid: '4', peerId: 'bob', kind: 'audio' },
    { mid: '5', peerId: 'bob', kind: 'video' },
  ]);

  it('groups receiving transceivers by participant', () => {
    const result = tracksByPeer(
      [
        { mid: '0', direction: 'sendonly', track: 'my-audio' },
        { mid: '1', direction: 'sendonly', track: 'my-video' },
        { mid: '2', direction: 'recvonly', track: 'a-audio' },
        { mid: '3', direction: 'recvonly', track: 'a-video' },
        { mid: '4', direction: 'inactive', track: 'b-audio' },
        { mid: '5', direction: 'sendrecv', track: 'b-video' },
        { mid: null, direction: null, track: 'pending' },
      ],
      mapping,
    );
    expect(Object.fromEntries(result)).toEqual({ alice: ['a-audio', 'a-video'], bob: ['b-video'] });
  });

  it('ignores mids the server did not map', () => {
    expect(tracksByPeer([{ mid: '9', direction: 'recvonly', track: 'x' }], mapping).size).toBe(0);
  });

  it('moves a reused transceiver to its new participant', () => {
    const reused = mappingFrom([{ mid: '2', peerId: 'carol', kind: 'audio' }]);
    const result = tracksByPeer([{ mid: '2', direction: 'recvonly', track: 't' }], reused);
    expect(Object.fromEntries(result)).toEqual({ carol: ['t'] });
  });

  it('shows a shared screen apart from the camera', () => {
    const withScreen = mappingFrom([
      { mid: '3', peerId: 'alice', kind: 'video' },
      { mid: '6', peerId: 'alice', kind: 'video', source: 'screen' },
      { mid: '7', kind: 'video' }, // a label without a participant is not the SFU's
    ]);
    const result = tracksByPeer(
      [
        { mid: '3', direction: 'recvonly', track: 'camera' },
        { mid: '6', direction: 'recvonly', track: 'screen' },
        { mid: '7', direction: 'recvonly', track: 'stray' },
      ],
      withScreen,
    );
    expect(Object.fromEntries(result)).toEqual({ alice: ['camera'], [screenKey('alice')]: ['screen'] });
  });

  it('diffs track lists', () => {
    expect(diffTracks(['a', 'b'], ['b', 'c'])).toEqual({ add: ['c'], remove: ['a'] });
    expect(diffTracks([], [])).toEqual({ add: [], remove: [] });
  });

  it('maps the paused mids to the tiles that show them', () => {
    const withScreen = mappingFrom([
      ...mapping.values(),
      { mid: '6', peerId: 'bob', kind: 'video', source: 'screen' },
    ]);
    expect(pausedKeys(['5', '3', '2', '6', '9'], withScreen)).toEqual(['alice', 'bob', screenKey('bob')].sort());
    expect(pausedKeys([], withScreen)).toEqual([]);
  });
});
