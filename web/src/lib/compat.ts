// What the browser needs for the server's media mode. getUserMedia always;
// for `ws`: MediaRecorder that records WebM, and MediaSource (or iOS Safari's
// ManagedMediaSource) that plays WebM VP8/Opus; RTCPeerConnection for
// `webrtc`/`sfu`. The names returned say what is really missing, e.g. a
// MediaRecorder that exists but records only MP4.

import type { MediaTransportKind } from '../protocol/messages';
import { pickMediaSource } from '../transports/ws/mediaSource';

export interface CompatEnv {
  navigator?: { mediaDevices?: { getUserMedia?: unknown } };
  MediaRecorder?: unknown;
  MediaSource?: unknown;
  ManagedMediaSource?: unknown;
  RTCPeerConnection?: unknown;
  WebSocket?: unknown;
}

/** Names of the missing features; empty when the browser can join. `mode` null = not known yet. */
export function missingFeatures(env: CompatEnv, mode: MediaTransportKind | null): string[] {
  const missing: string[] = [];
  if (typeof env.WebSocket !== 'function') missing.push('WebSocket');
  if (typeof env.navigator?.mediaDevices?.getUserMedia !== 'function') missing.push('getUserMedia');
  if (mode === 'ws') {
    if (typeof env.MediaRecorder !== 'function') missing.push('MediaRecorder');
    else if (!supportsAny(env.MediaRecorder, WEBM_RECORDING)) missing.push('WebM recording (MediaRecorder)');
    const source = pickMediaSource(env);
    if (!source) missing.push('MediaSource (or ManagedMediaSource)');
    else if (!supportsAny(source, WEBM_PLAYBACK)) missing.push('WebM VP8/Opus playback (MediaSource)');
  } else if (mode === 'webrtc' || mode === 'sfu') {
    if (typeof env.RTCPeerConnection !== 'function') missing.push('RTCPeerConnection');
  }
  return missing;
}

const WEBM_RECORDING = ['video/webm', 'audio/webm'];
const WEBM_PLAYBACK = ['video/webm;codecs="vp8,opus"', 'audio/webm;codecs="opus"'];

/** `Ctor.isTypeSupported` accepts one of `types`; true when it cannot be asked. */
function supportsAny(ctor: unknown, types: string[]): boolean {
  const check = (ctor as { isTypeSupported?: unknown }).isTypeSupported;
  if (typeof check !== 'function') return true;
  return types.some((type) => {
    try {
      return Boolean(check.call(ctor, type));
    } catch {
      return false;
    }
  });
}
