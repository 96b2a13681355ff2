// localStorage / sessionStorage access that never throws (private mode, disabled storage).

export const NAME_KEY = 'roomtone_name';
export const IN_CALL_KEY = 'roomtone_in_call';
export const NOTIFY_ASKED_KEY = 'roomtone_notifications_asked';
export const MIC_KEY = 'roomtone_mic';
export const CAMERA_KEY = 'roomtone_camera';

function get(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function set(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // ignore
  }
}

export const local = {
  get: (key: string) => get(() => window.localStorage, key),
  set: (key: string, value: string | null) => set(() => window.localStorage, key, value),
};

// Per tab and surviving reloads: a reload during a call rejoins it.
export const session = {
  get: (key: string) => get(() => window.sessionStorage, key),
  set: (key: string, value: string | null) => set(() => window.sessionStorage, key, value),
};
