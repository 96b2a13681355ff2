import { useCallback, useEffect, useRef } from 'react';

interface RemoteProps {
  peerId: string;
  name: string;
  attach(peerId: string, video: HTMLVideoElement | null): void;
}

/** A remote participant: the transport puts its media into this element. */
export function RemoteTile({ peerId, name, attach }: RemoteProps) {
  const ref = useCallback((video: HTMLVideoElement | null) => attach(peerId, video), [attach, peerId]);
  return (
    <figure className="tile remote" data-testid="remote-tile" data-peer-id={peerId}>
      <video data-testid="remote-video" data-peer-id={peerId} ref={ref} autoPlay playsInline />
      <figcaption>{name}</figcaption>
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
