// Which microphones and cameras there are, and which ones the person picked
// (remembered in localStorage, so the next call starts with them).

import { CAMERA_KEY, local, MIC_KEY } from '../lib/storage';
import type { DeviceChoice, DeviceKind } from './localMedia';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface DeviceLists {
  mics: DeviceOption[];
  cameras: DeviceOption[];
}

const KEYS: Record<DeviceKind, string> = { mic: MIC_KEY, camera: CAMERA_KEY };

export function savedChoice(): DeviceChoice {
  return { mic: local.get(MIC_KEY), camera: local.get(CAMERA_KEY) };
}

export function saveChoice(kind: DeviceKind, deviceId: string | null): void {
  local.set(KEYS[kind], deviceId);
}

/**
 * The inputs, labelled. Labels are empty until the page may use a device; then
 * `fallback(kind, n)` names them ("Camera 2"). Windows' "communications"
 * alias is left out; "default" stays, as a track opened without a choice
 * reports it as its device.
 */
export function deviceLists(
  devices: MediaDeviceInfo[],
  fallback: (kind: DeviceKind, n: number) => string,
): DeviceLists {
  const pick = (kind: MediaDeviceKind, as: DeviceKind): DeviceOption[] =>
    devices
      .filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'communications')
      .map((d, i) => ({ deviceId: d.deviceId, label: d.label || fallback(as, i + 1) }));
  return { mics: pick('audioinput', 'mic'), cameras: pick('videoinput', 'camera') };
}

export async function listDevices(): Promise<MediaDeviceInfo[]> {
  try {
    return await navigator.mediaDevices.enumerateDevices();
  } catch {
    return [];
  }
}

/** Call `listener` when a device is plugged in or out; returns the unsubscribe. */
export function watchDevices(listener: () => void): () => void {
  const devices = navigator.mediaDevices;
  if (!devices?.addEventListener) return () => undefined;
  devices.addEventListener('devicechange', listener);
  return () => devices.removeEventListener('devicechange', listener);
}

/** The device a track comes from (what a picker shows as selected). */
export function deviceOf(track: MediaStreamTrack | null): string | null {
  if (!track) return null;
  try {
    return track.getSettings().deviceId ?? null;
  } catch {
    return null;
  }
}
