// Camera and microphone. Video falls back to audio only when there is no camera.

export type MediaFailure = 'denied' | 'failed';

export class LocalMediaError extends Error {
  constructor(
    readonly kind: MediaFailure,
    readonly detail: unknown,
  ) {
    super(String(detail));
  }
}

const DEFAULT_VIDEO: MediaTrackConstraints = {
  width: { ideal: 640 },
  height: { ideal: 480 },
  frameRate: { ideal: 24, max: 30 },
};

/** Tests (and embedders) may lower the capture size with `window.__roomtoneVideoConstraints`. */
function videoConstraints(): MediaTrackConstraints {
  const override = (window as unknown as { __roomtoneVideoConstraints?: MediaTrackConstraints })
    .__roomtoneVideoConstraints;
  return override ?? DEFAULT_VIDEO;
}

const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export async function openLocalMedia(): Promise<MediaStream> {
  const devices = navigator.mediaDevices;
  try {
    return await devices.getUserMedia({ audio: AUDIO, video: videoConstraints() });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new LocalMediaError('denied', error);
    try {
      return await devices.getUserMedia({ audio: AUDIO });
    } catch (second) {
      const secondName = (second as { name?: string }).name;
      throw new LocalMediaError(secondName === 'NotAllowedError' ? 'denied' : 'failed', second);
    }
  }
}

export function stopStream(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}
