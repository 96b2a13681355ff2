// Helpers shared by transports for putting remote media into a <video>.

/** Start playback; an autoplay refusal is reported so the UI can offer a tap. */
export function playVideo(video: HTMLVideoElement, onBlocked: () => void): void {
  const attempt = video.play();
  if (attempt && typeof attempt.catch === 'function') {
    attempt.catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') onBlocked();
      // AbortError: a new source replaced this one; nothing to do.
    });
  }
}

export function setStream(video: HTMLVideoElement, stream: MediaStream | null, onBlocked: () => void): void {
  if (video.srcObject !== stream) video.srcObject = stream;
  if (stream) playVideo(video, onBlocked);
}

export function clearVideo(video: HTMLVideoElement): void {
  video.srcObject = null;
  if (video.hasAttribute('src')) {
    video.removeAttribute('src');
    video.load();
  }
}
