// Which MediaSource the ws player uses. iOS Safari (17.1+) has no MediaSource
// on iPhone, only ManagedMediaSource: the same API, but the browser may evict
// buffered media and pause fetching, which a live stream never relies on. It
// needs `disableRemotePlayback` (set by the player) unless AirPlay gets another
// source. Kept free of DOM globals so it can be unit-tested.

export type MediaSourceCtor = typeof MediaSource;

export interface MediaSourceEnv {
  MediaSource?: unknown;
  ManagedMediaSource?: unknown;
}

/** MediaSource where there is one, else ManagedMediaSource, else null. */
export function pickMediaSource(env: MediaSourceEnv): MediaSourceCtor | null {
  if (typeof env.MediaSource === 'function') return env.MediaSource as MediaSourceCtor;
  if (typeof env.ManagedMediaSource === 'function') return env.ManagedMediaSource as MediaSourceCtor;
  return null;
}
