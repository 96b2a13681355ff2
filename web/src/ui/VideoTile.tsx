import { useCallback, useEffect, useRef } from 'react';
import type { Participant } from '../call/state';

interface RemoteProps {
  participant: Participant;
  /** Hands the element to the session's PeerVideos (null on unmount). */
  attach(peerId: string, video: HTMLVideoElement | null): void;
}

/** A remote participant: the transport puts its media into this element. */
export function RemoteTile({ participant, attach }: RemoteProps) {
  const { id } = participant;
  const ref = useCallback((video: HTMLVideoElement | null) => attach(id, video), [attach, id]);
  return (
    <figure className="tile remote" data-testid="remote-tile" data-peer-id={id}>
      <video data-testid="remote-video" data-peer-id={id} ref={ref} autoPlay playsInline />
      <figcaption>{participant.name}</figcaption>
    </figure>
  );
}

interface LocalProps {
  stream: MediaStream | null;
  label: string;
  camOn: boolean;
  pip: boolean;
}

export function LocalTile({ stream, label, camOn, pip }: LocalProps) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (video && video.srcObject !== stream) {
      video.srcObject = stream;
      if (stream) void video.play().catch(() => undefined);
    }
  }, [stream]);
  return (
    <figure className={`tile local${pip ? ' pip' : ''}${camOn ? '' : ' cam-off'}`} data-testid="local-tile">
      <video data-testid="local-video" ref={ref} autoPlay playsInline muted />
      <figcaption>{label}</figcaption>
    </figure>
  );
}
