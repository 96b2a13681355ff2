// What the browser needs for the server's media mode. getUserMedia always;
// MediaRecorder + MediaSource for `ws`; RTCPeerConnection for `webrtc`/`sfu`.

import type { MediaTransportKind } from '../protocol/messages';

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
    if (typeof env.MediaSource !== 'function' && typeof env.ManagedMediaSource !== 'function') {
      missing.push('MediaSource');
    }
  } else if (mode === 'webrtc' || mode === 'sfu') {
    if (typeof env.RTCPeerConnection !== 'function') missing.push('RTCPeerConnection');
  }
  return missing;
}
