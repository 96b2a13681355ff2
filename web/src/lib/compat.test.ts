import { describe, expect, it } from 'vitest';
import { missingFeatures, type CompatEnv } from './compat';

const fn = () => undefined;
const full: CompatEnv = {
  WebSocket: fn,
  navigator: { mediaDevices: { getUserMedia: fn } },
  MediaRecorder: fn,
  MediaSource: fn,
  RTCPeerConnection: fn,
};

describe('missingFeatures', () => {
  it('accepts a complete browser in every mode', () => {
    for (const mode of ['ws', 'webrtc', 'sfu', null] as const) expect(missingFeatures(full, mode)).toEqual([]);
  });

  it('needs MediaRecorder and MediaSource only in ws mode', () => {
    const env = { ...full, MediaRecorder: undefined, MediaSource: undefined };
    expect(missingFeatures(env, 'ws')).toEqual(['MediaRecorder', 'MediaSource (or ManagedMediaSource)']);
    expect(missingFeatures(env, 'webrtc')).toEqual([]);
  });

  it('accepts ManagedMediaSource for ws mode', () => {
    expect(missingFeatures({ ...full, MediaSource: undefined, ManagedMediaSource: fn }, 'ws')).toEqual([]);
  });

  it('needs RTCPeerConnection for webrtc and sfu', () => {
    const env = { ...full, RTCPeerConnection: undefined };
    expect(missingFeatures(env, 'webrtc')).toEqual(['RTCPeerConnection']);
    expect(missingFeatures(env, 'sfu')).toEqual(['RTCPeerConnection']);
    expect(missingFeatures(env, 'ws')).toEqual([]);
  });

  it('always needs getUserMedia', () => {
    expect(missingFeatures({ ...full, navigator: {} }, null)).toEqual(['getUserMedia']);
  });

  it('names WebM recording when MediaRecorder records only MP4 (Safari)', () => {
    const recorder = Object.assign(() => undefined, { isTypeSupported: (t: string) => t.startsWith('video/mp4') });
    expect(missingFeatures({ ...full, MediaRecorder: recorder }, 'ws')).toEqual(['WebM recording (MediaRecorder)']);
  });

  it('names WebM playback when the MediaSource cannot play VP8/Opus', () => {
    const managed = Object.assign(() => undefined, { isTypeSupported: () => false });
    expect(missingFeatures({ ...full, MediaSource: undefined, ManagedMediaSource: managed }, 'ws')).toEqual([
      'WebM VP8/Opus playback (MediaSource)',
    ]);
    const playsWebm = Object.assign(() => undefined, { isTypeSupported: (t: string) => t.includes('webm') });
    expect(missingFeatures({ ...full, MediaSource: undefined, ManagedMediaSource: playsWebm }, 'ws')).toEqual([]);
  });
});
