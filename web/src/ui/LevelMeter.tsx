import { useEffect, useRef } from 'react';
import { SPEAKING_ON } from '../call/speaking';
import { createLevelMeter } from '../lib/audioLevel';

interface Props {
  track: MediaStreamTrack | null;
  label: string;
}

/** A bar that follows the microphone's level (updated outside React, every frame). */
export function LevelMeter({ track, label }: Props) {
  const bar = useRef<HTMLSpanElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!track) return;
    const meter = createLevelMeter(track);
    if (!meter) return;
    let frame = 0;
    let peak = 0;
    const draw = () => {
      const level = meter.level();
      // Falls back slowly so short syllables stay visible.
      peak = Math.max(level, peak * 0.9);
      if (bar.current) bar.current.style.width = `${Math.min(100, Math.round(Math.sqrt(peak / 0.3) * 100))}%`;
      box.current?.setAttribute('data-active', String(peak >= SPEAKING_ON));
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    return () => {
      cancelAnimationFrame(frame);
      meter.close();
    };
  }, [track]);
  return (
    <div className="level" ref={box} data-testid="mic-level" data-active="false" role="meter" aria-label={label}>
      <span ref={bar} />
    </div>
  );
}
