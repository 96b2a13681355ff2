// Microphone level from WebAudio (an AnalyserNode; nothing is played). One
// AudioContext for the page; browsers start it suspended until a user gesture,
// so the first click or key press resumes it.

import type { LevelMeter } from '../call/speaking';

let context: AudioContext | null = null;

function audioContext(): AudioContext | null {
  if (context) return context;
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return null;
  try {
    context = new Ctor();
  } catch {
    return null;
  }
  const resume = () => {
    void context?.resume().catch(() => undefined);
    if (context?.state === 'running') {
      window.removeEventListener('pointerdown', resume, true);
      window.removeEventListener('keydown', resume, true);
    }
  };
  window.addEventListener('pointerdown', resume, true);
  window.addEventListener('keydown', resume, true);
  resume();
  return context;
}

/** A meter of `track`'s level (RMS, 0..1); null where WebAudio is missing. */
export function createLevelMeter(track: MediaStreamTrack): LevelMeter | null {
  const ctx = audioContext();
  if (!ctx) return null;
  let source: MediaStreamAudioSourceNode;
  try {
    source = ctx.createMediaStreamSource(new MediaStream([track]));
  } catch {
    return null;
  }
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return {
    level() {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const x of samples) sum += x * x;
      return Math.sqrt(sum / samples.length);
    },
    close() {
      source.disconnect();
      analyser.disconnect();
    },
  };
}
