// The `entropy` keepalive (docs/PROTOCOL.md): 128–1024 random bytes, base64, every
// 1.5–3.5 s, so idle proxies keep the socket and traffic does not reveal silence.

export const ENTROPY_MIN_BYTES = 128;
export const ENTROPY_MAX_BYTES = 1024;
export const ENTROPY_MIN_INTERVAL_MS = 1500;
export const ENTROPY_MAX_INTERVAL_MS = 3500;

export type RandomFn = () => number;
export type FillRandom = (bytes: Uint8Array) => void;

const defaultFill: FillRandom = (bytes) => {
  crypto.getRandomValues(bytes);
};

/** A uniform integer in [min, max]. */
export function randomInt(min: number, max: number, random: RandomFn = Math.random): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function entropyMessage(
  random: RandomFn = Math.random,
  fill: FillRandom = defaultFill,
): { type: 'entropy'; bytes: number; data: string } {
  const size = randomInt(ENTROPY_MIN_BYTES, ENTROPY_MAX_BYTES, random);
  const bytes = new Uint8Array(size);
  fill(bytes);
  return { type: 'entropy', bytes: size, data: toBase64(bytes) };
}

export function nextEntropyDelay(random: RandomFn = Math.random): number {
  return ENTROPY_MIN_INTERVAL_MS + random() * (ENTROPY_MAX_INTERVAL_MS - ENTROPY_MIN_INTERVAL_MS);
}

/** Sends entropy until stopped; each send schedules the next at a fresh random delay. */
export class EntropyTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly send: (message: ReturnType<typeof entropyMessage>) => void) {}

  start(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.send(entropyMessage());
      this.start();
    }, nextEntropyDelay());
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
