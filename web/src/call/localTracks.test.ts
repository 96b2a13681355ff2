import { describe, expect, it } from 'vitest';
import { LocalTracks, type LocalSource } from './localTracks';
import { fakeStream, fakeTrack, streamOf, type FakeTrack } from './session.fakes';

const asTrack = (t: FakeTrack) => t as unknown as MediaStreamTrack;

describe('LocalTracks', () => {
  it('replaces a track: the old one stops, the stream is new, `ended` follows the new one', () => {
    const { stream, tracks } = fakeStream();
    const ended: LocalSource[] = [];
    const local = new LocalTracks(stream, (t) => streamOf(t as unknown as FakeTrack[]), (s) => ended.push(s));
    expect(local.stream).toBe(stream);
    const camera = fakeTrack('video', 'cam-2');
    local.replace('camera', asTrack(camera));
    expect(tracks[1].stopped).toBe(true);
    expect(local.stream).not.toBe(stream);
    expect(local.stream.getTracks()).toEqual([tracks[0], camera]);
    tracks[1].end(); // the replaced track's end is not news
    camera.end();
    expect(ended).toEqual(['camera']);
  });

  it('keeps a screen apart from the microphone-and-camera stream', () => {
    const { stream } = fakeStream();
    const local = new LocalTracks(stream, (t) => streamOf(t as unknown as FakeTrack[]), () => undefined);
    local.replace('screen', asTrack(fakeTrack('video', 'screen')));
    expect(local.stream).toBe(stream);
    expect(local.screen).not.toBeNull();
    local.stop();
    expect([local.mic, local.camera, local.screen]).toEqual([null, null, null]);
  });
});
