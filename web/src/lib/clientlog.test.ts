import { describe, expect, it } from 'vitest';
import { logBody, MAX_LOG_BYTES } from './clientlog';

describe('logBody', () => {
  it('is a JSON object with the event first', () => {
    const body = JSON.parse(logBody('join', { mode: 'ws', participants: 2, skipped: undefined }));
    expect(body).toEqual({ event: 'join', mode: 'ws', participants: 2 });
  });

  it('never lets a field replace the event', () => {
    expect(JSON.parse(logBody('join', { event: 'forged' })).event).toBe('join');
  });

  it('stays within 32 KB', () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 40; i++) fields[`f${i}`] = 'ж'.repeat(5000);
    const body = logBody('media-error', fields);
    expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(JSON.parse(body).event).toBe('media-error');
  });
});
