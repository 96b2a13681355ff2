import { describe, expect, it, vi } from 'vitest';
import { cleanedUrl, stripSensitiveParams, wsUrl } from './url';

describe('cleanedUrl', () => {
  it('removes name and token, keeps the rest', () => {
    expect(cleanedUrl('https://call.example/?name=Eve&token=abc.def&x=1#frag')).toBe('/?x=1#frag');
    expect(cleanedUrl('https://call.example/room?token=abc')).toBe('/room');
    expect(cleanedUrl('https://call.example/?name=a&name=b')).toBe('/');
  });

  it('returns null when nothing changes', () => {
    expect(cleanedUrl('https://call.example/?x=1')).toBeNull();
    expect(cleanedUrl('https://call.example/')).toBeNull();
  });
});

describe('stripSensitiveParams', () => {
  it('replaces the history entry in place', () => {
    const replaceState = vi.fn();
    const win = {
      location: { href: 'http://127.0.0.1:5670/?token=t' },
      history: { state: { a: 1 }, replaceState },
    } as unknown as Window;
    expect(stripSensitiveParams(win)).toBe(true);
    expect(replaceState).toHaveBeenCalledWith({ a: 1 }, '', '/');
  });
});

describe('wsUrl', () => {
  it('follows the page scheme', () => {
    expect(wsUrl({ protocol: 'https:', host: 'call.example' })).toBe('wss://call.example/ws');
    expect(wsUrl({ protocol: 'http:', host: '127.0.0.1:5670' })).toBe('ws://127.0.0.1:5670/ws');
  });
});
