// The microphones and cameras to pick from, kept current as devices come and go.

import { useEffect, useState } from 'react';
import { deviceLists, listDevices, watchDevices, type DeviceLists } from '../call/devices';
import type { Strings } from '../lib/i18n';

/** `refresh` changes when labels may have become readable (after permission was given). */
export function useDevices(strings: Strings, refresh: unknown): DeviceLists {
  const [lists, setLists] = useState<DeviceLists>({ mics: [], cameras: [] });
  useEffect(() => {
    let cancelled = false;
    const load = () =>
      void listDevices().then((devices) => {
        if (!cancelled) setLists(deviceLists(devices, strings.device));
      });
    load();
    const unwatch = watchDevices(load);
    return () => {
      cancelled = true;
      unwatch();
    };
  }, [strings, refresh]);
  return lists;
}
