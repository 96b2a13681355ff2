// Whether our own microphone hears speech, with hysteresis so a tile's
// highlight does not flicker: speaking starts at once when the level passes
// SPEAKING_ON, continues while it stays above SPEAKING_OFF, and ends only after
// HOLD_MS below it. A muted microphone is never speaking.

/** RMS of the microphone signal (0..1) that starts speaking… */
export const SPEAKING_ON = 0.03;
/** …the level that keeps it going… */
export const SPEAKING_OFF = 0.012;
/** …and how long below that before it ends. */
export const HOLD_MS = 900;
export const SAMPLE_MS = 60;

export class SpeakingDetector {
  private speaking = false;
  private lastVoice = 0;

  update(level: number, now: number): boolean {
    if (level >= SPEAKING_ON || (this.speaking && level >= SPEAKING_OFF)) {
      this.speaking = true;
      this.lastVoice = now;
    } else if (this.speaking && now - this.lastVoice >= HOLD_MS) {
      this.speaking = false;
    }
    return this.speaking;
  }

  reset(): void {
    this.speaking = false;
  }
}

/** The level of one track, read on demand (lib/audioLevel.ts in the browser). */
export interface LevelMeter {
  level(): number;
  close(): void;
}

export type MeterFactory = (track: MediaStreamTrack) => LevelMeter | null;

/** Samples the microphone's level while in a call and reports speaking changes. */
export class SpeakingMonitor {
  private readonly detector = new SpeakingDetector();
  private meter: LevelMeter | null = null;
  private track: MediaStreamTrack | null = null;
  private on = true;
  private timer: ReturnType<typeof setInterval> | null = null;
  speaking = false;

  constructor(
    private readonly meters: MeterFactory,
    private readonly changed: (speaking: boolean) => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Listen to `track` (null: none); `on` false while muted. */
  follow(track: MediaStreamTrack | null, on: boolean): void {
    this.on = on;
    if (track !== this.track) {
      this.meter?.close();
      this.track = track;
      this.meter = track ? this.meters(track) : null;
    }
    if (this.timer === null) this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    if (!on || !track) this.set(false);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.meter?.close();
    this.meter = null;
    this.track = null;
    this.set(false);
  }

  private sample(): void {
    const level = this.on && this.meter ? this.meter.level() : 0;
    this.set(this.detector.update(level, this.now()));
  }

  private set(speaking: boolean): void {
    if (!speaking) this.detector.reset();
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    this.changed(speaking);
  }
}
