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
    expect(missingFeatures(env, 'ws')).toEqual(['MediaRecorder', 'MediaSource']);
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
});
