import { describe, expect, it } from 'vitest';
import { parseServerConfig } from './useServerConfig';

describe('parseServerConfig', () => {
  it('reads the mode and capacity', () => {
    expect(parseServerConfig({ mediaTransport: 'sfu', maxParticipants: 10 })).toEqual({
      mode: 'sfu',
      maxParticipants: 10,
      authEnabled: null,
    });
    expect(parseServerConfig({ mediaTransport: 'ws', authEnabled: true })).toMatchObject({ authEnabled: true });
  });

  it('tolerates junk', () => {
    const nothing = { mode: null, maxParticipants: null, authEnabled: null };
    expect(parseServerConfig(null)).toEqual(nothing);
    expect(parseServerConfig({ mediaTransport: 'carrier-pigeon', authEnabled: 'yes' })).toEqual(nothing);
  });
});
