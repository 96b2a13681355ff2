// Camera, microphone and screen from the browser. Joining works without a
// camera: when there is none, or it is refused or broken, the call starts with
// the microphone only and says why (`CameraProblem`).

export type MediaFailure = 'denied' | 'failed';

export class LocalMediaError extends Error {
  constructor(
    readonly kind: MediaFailure,
    readonly detail: unknown,
  ) {
    super(String(detail));
  }
}

/** Why the call has no camera picture. */
export type CameraProblem = 'none-found' | 'denied' | 'failed';

/** The microphone and camera to ask for (device ids; null: the browser's default). */
export interface DeviceChoice {
  mic: string | null;
  camera: string | null;
}

/** Microphone (and camera, unless `cameraProblem` says why not) ready for a call. */
export interface OpenedMedia {
  stream: MediaStream;
  cameraProblem: CameraProblem | null;
}

export type DeviceKind = 'mic' | 'camera';

const DEFAULT_VIDEO: MediaTrackConstraints = {
  width: { ideal: 640 },
  height: { ideal: 480 },
  frameRate: { ideal: 24, max: 30 },
};

// A shared screen is mostly still text: a low frame rate keeps it sharp and cheap.
const DEFAULT_SCREEN: MediaTrackConstraints = {
  width: { max: 1920 },
  height: { max: 1080 },
  frameRate: { ideal: 10, max: 15 },
};

type Overrides = {
  __roomtoneVideoConstraints?: MediaTrackConstraints;
  __roomtoneScreenConstraints?: MediaTrackConstraints;
};

/** Tests (and embedders) may lower the capture size with `window.__roomtoneVideoConstraints`. */
function videoBase(): MediaTrackConstraints {
  return (window as unknown as Overrides).__roomtoneVideoConstraints ?? DEFAULT_VIDEO;
}

function screenBase(): MediaTrackConstraints {
  return (window as unknown as Overrides).__roomtoneScreenConstraints ?? DEFAULT_SCREEN;
}

const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** `exact` for a device the person picked; `ideal` for a remembered one that may be gone. */
function withDevice(base: MediaTrackConstraints, deviceId: string | null, exact: boolean): MediaTrackConstraints {
  if (!deviceId) return base;
  return { ...base, deviceId: exact ? { exact: deviceId } : { ideal: deviceId } };
}

function errorName(error: unknown): string {
  return (error as { name?: string }).name ?? '';
}

function isDenial(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NotAllowedError' || name === 'SecurityError';
}

function cameraProblemOf(error: unknown): CameraProblem {
  if (isDenial(error)) return 'denied';
  const name = errorName(error);
  return name === 'NotFoundError' || name === 'OverconstrainedError' ? 'none-found' : 'failed';
}

export async function openLocalMedia(choice: DeviceChoice): Promise<OpenedMedia> {
  const devices = navigator.mediaDevices;
  const audio = withDevice(AUDIO, choice.mic, false);
  try {
    const stream = await devices.getUserMedia({ audio, video: withDevice(videoBase(), choice.camera, false) });
    return { stream, cameraProblem: stream.getVideoTracks().length > 0 ? null : 'none-found' };
  } catch (error) {
    // Without a camera (none, refused, busy) the call still works with the microphone.
    const cameraProblem = cameraProblemOf(error);
    try {
      return { stream: await devices.getUserMedia({ audio }), cameraProblem };
    } catch (second) {
      throw new LocalMediaError(isDenial(second) ? 'denied' : 'failed', second);
    }
  }
}

/** One microphone or camera track; `exact` when the person picked this device. */
export async function openTrack(kind: DeviceKind, deviceId: string | null, exact: boolean): Promise<MediaStreamTrack> {
  const constraints: MediaStreamConstraints =
    kind === 'mic'
      ? { audio: withDevice(AUDIO, deviceId, exact) }
      : { video: withDevice(videoBase(), deviceId, exact) };
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  const track = kind === 'mic' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  if (!track) throw new LocalMediaError('failed', `no ${kind} track`);
  return track;
}

/** Whether this browser can share a screen (phones cannot). */
export function canShareScreen(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function';
}

/** A screen or window the person picks; rejects if they cancel. Never the screen's sound. */
export async function openScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: screenBase(), audio: false });
  const track = stream.getVideoTracks()[0];
  if (!track) throw new LocalMediaError('failed', 'no screen track');
  // The encoder keeps text sharp rather than motion smooth.
  if ('contentHint' in track) track.contentHint = 'detail';
  return track;
}

export function stopStream(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}
