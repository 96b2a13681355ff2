// Small inline icons (currentColor), so the indicators read without words.

import type { LinkState } from '../transports/quality';

export function MicOffIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z"
      />
      <path stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" d="M4 3l16 18" />
    </svg>
  );
}

/** Three bars, as many lit as the quality deserves. */
export function SignalIcon({ quality }: { quality: LinkState }) {
  const lit = quality === 'good' ? 3 : quality === 'fair' ? 2 : 1;
  return (
    <svg viewBox="0 0 18 14" width="18" height="14" aria-hidden="true" className={`signal ${quality === 'reconnecting' ? 'poor' : quality}`}>
      {[0, 1, 2].map((i) => (
        <rect key={i} x={i * 6} y={10 - i * 5} width="4" height={4 + i * 5} rx="1" opacity={i < lit ? 1 : 0.3} />
      ))}
    </svg>
  );
}
