// The join screen's camera preview and microphone: opened with the remembered
// devices, switched by the pickers, and handed to the call on Join (so the
// camera does not restart, and the permission prompt comes once).

import { useCallback, useEffect, useRef, useState } from 'react';
import { deviceOf, saveChoice, savedChoice } from '../call/devices';
import {
  LocalMediaError,
  openLocalMedia,
  openTrack,
  stopStream,
  type CameraProblem,
  type DeviceKind,
  type MediaFailure,
  type OpenedMedia,
} from '../call/localMedia';

export interface Preview {
  stream: MediaStream | null;
  cameraProblem: CameraProblem | null;
  /** Neither microphone nor camera could be opened. */
  failure: MediaFailure | null;
  opening: boolean;
  micDevice: string | null;
  cameraDevice: string | null;
  /** A device could not be switched to. */
  switchFailed: boolean;
  select(kind: DeviceKind, deviceId: string): void;
  /** Hand the media to the call: from now on the call stops it, not the preview. */
  take(): OpenedMedia | null;
}

export function usePreview(enabled: boolean): Preview {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [cameraProblem, setCameraProblem] = useState<CameraProblem | null>(null);
  const [failure, setFailure] = useState<MediaFailure | null>(null);
  const [opening, setOpening] = useState(false);
  const [switchFailed, setSwitchFailed] = useState(false);
  const streamRef = useRef<MediaStream | null>(null);
  const problemRef = useRef<CameraProblem | null>(null);

  const show = useCallback((next: MediaStream | null, problem: CameraProblem | null) => {
    streamRef.current = next;
    problemRef.current = problem;
    setStream(next);
    setCameraProblem(problem);
  }, []);

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    setOpening(true);
    openLocalMedia(savedChoice())
      .then((opened) => {
        if (cancelled) stopStream(opened.stream);
        else show(opened.stream, opened.cameraProblem);
      })
      .catch((error: unknown) => {
        if (!cancelled) setFailure(error instanceof LocalMediaError ? error.kind : 'failed');
      })
      .finally(() => {
        if (!cancelled) setOpening(false);
      });
    return () => {
      cancelled = true;
      stopStream(streamRef.current); // still ours unless take() handed it over
      streamRef.current = null;
    };
  }, [enabled, show]);

  const select = useCallback(
    (kind: DeviceKind, deviceId: string) => {
      void openTrack(kind, deviceId, true)
        .then((track) => {
          const current = streamRef.current;
          if (!current && kind === 'camera') {
            track.stop();
            return;
          }
          const keep = (current?.getTracks() ?? []).filter((t) => (kind === 'mic' ? t.kind !== 'audio' : t.kind !== 'video'));
          for (const old of current?.getTracks() ?? []) if (!keep.includes(old)) old.stop();
          saveChoice(kind, deviceId);
          setSwitchFailed(false);
          show(new MediaStream([...keep, track]), kind === 'camera' ? null : problemRef.current);
        })
        .catch(() => setSwitchFailed(true));
    },
    [show],
  );

  const take = useCallback((): OpenedMedia | null => {
    const current = streamRef.current;
    if (!current) return null;
    streamRef.current = null;
    return { stream: current, cameraProblem: problemRef.current };
  }, []);

  const tracks = stream?.getTracks() ?? [];
  return {
    stream,
    cameraProblem,
    failure,
    opening,
    micDevice: deviceOf(tracks.find((t) => t.kind === 'audio') ?? null),
    cameraDevice: deviceOf(tracks.find((t) => t.kind === 'video') ?? null),
    switchFailed,
    select,
    take,
  };
}
