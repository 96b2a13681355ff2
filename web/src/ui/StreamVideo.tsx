import { useEffect, useRef } from 'react';

interface Props {
  stream: MediaStream | null;
  className?: string;
  testId?: string;
}

/** A muted <video> showing one of our own streams (camera preview, shared screen). */
export function StreamVideo({ stream, className, testId }: Props) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (video && video.srcObject !== stream) {
      video.srcObject = stream;
      if (stream) void video.play().catch(() => undefined);
    }
  }, [stream]);
  return <video className={className} data-testid={testId} ref={ref} autoPlay playsInline muted />;
}
