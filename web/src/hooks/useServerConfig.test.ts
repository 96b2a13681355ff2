import { describe, expect, it } from 'vitest';
import { parseServerConfig } from './useServerConfig';

describe('parseServerConfig', () => {
  it('reads the mode and capacity', () => {
    expect(parseServerConfig({ mediaTransport: 'sfu', maxParticipants: 10 })).toEqual({ mode: 'sfu', maxParticipants: 10 });
  });

  it('tolerates junk', () => {
    expect(parseServerConfig(null)).toEqual({ mode: null, maxParticipants: null });
    expect(parseServerConfig({ mediaTransport: 'carrier-pigeon' })).toEqual({ mode: null, maxParticipants: null });
  });
});
