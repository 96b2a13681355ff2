import { describe, expect, it } from 'vitest';
import { cleanName, parseServerMessage } from './messages';

describe('parseServerMessage', () => {
  it('parses a full welcome', () => {
    const msg = parseServerMessage(
      JSON.stringify({
        type: 'welcome',
        id: 'me',
        participants: [{ id: 'a', name: 'Alice' }, { bogus: true }],
        iceServers: [{ urls: 'stun:stun.example.org' }, { urls: ['turn:t'], username: 'u', credential: 'c' }, { nope: 1 }],
        iceTransportPolicy: 'relay',
        mediaTransport: 'webrtc',
        mediaPeers: [{ id: 'a', mimeType: 'video/webm;codecs=vp8,opus' }],
        extra: 'ignored',
      }),
    );
    expect(msg).toEqual({
      type: 'welcome',
      id: 'me',
      participants: [{ id: 'a', name: 'Alice' }],
      iceServers: [{ urls: 'stun:stun.example.org' }, { urls: ['turn:t'], username: 'u', credential: 'c' }],
      iceTransportPolicy: 'relay',
      mediaTransport: 'webrtc',
      mediaPeers: [{ id: 'a', mimeType: 'video/webm;codecs=vp8,opus' }],
    });
  });

  it('defaults what an older server leaves out', () => {
    const msg = parseServerMessage('{"type":"welcome","id":"x"}');
    expect(msg).toMatchObject({ participants: [], iceServers: [], iceTransportPolicy: 'all', mediaTransport: null, mediaPeers: [] });
  });

  it('rejects malformed input', () => {
    for (const text of ['nope', '[]', '{"type":1}', '{"type":"welcome"}', '{"type":"peer-left"}', '{"type":"unknown"}']) {
      expect(parseServerMessage(text)).toBeNull();
    }
  });

  it('parses room and media messages', () => {
    expect(parseServerMessage('{"type":"peer-joined","peer":{"id":"b","name":"Bob"}}')).toEqual({
      type: 'peer-joined',
      peer: { id: 'b', name: 'Bob' },
    });
    expect(parseServerMessage('{"type":"peer-left","peerId":"b"}')).toEqual({ type: 'peer-left', peerId: 'b' });
    expect(parseServerMessage('{"type":"error","message":"Room is full."}')).toEqual({ type: 'error', message: 'Room is full.' });
    expect(parseServerMessage('{"type":"media-start","peerId":"b","mimeType":"video/webm"}')).toEqual({
      type: 'media-start',
      peerId: 'b',
      mimeType: 'video/webm',
    });
    expect(parseServerMessage('{"type":"media-stop","peerId":"b"}')).toEqual({ type: 'media-stop', peerId: 'b' });
    expect(parseServerMessage('{"type":"media-keyframe"}')).toEqual({ type: 'media-keyframe' });
    expect(parseServerMessage('{"type":"entropy","bytes":3,"data":"AAAA"}')).toEqual({ type: 'entropy' });
  });

  it('parses signals with descriptions, candidates and SFU track maps', () => {
    const offer = parseServerMessage(
      JSON.stringify({
        type: 'signal',
        from: 'sfu',
        data: {
          description: { type: 'offer', sdp: 'v=0' },
          tracks: [
            { mid: '2', peerId: 'a', kind: 'audio' },
            { mid: 3, peerId: 'a', kind: 'video' },
            { mid: '4', peerId: 'b', kind: 'data' },
            { mid: '5', peerId: 'a', kind: 'video', source: 'screen' },
            { mid: '6', kind: 'video', source: 'hologram' },
          ],
        },
      }),
    );
    expect(offer).toEqual({
      type: 'signal',
      from: 'sfu',
      data: {
        description: { type: 'offer', sdp: 'v=0' },
        tracks: [
          { mid: '2', peerId: 'a', kind: 'audio' },
          { mid: '3', peerId: 'a', kind: 'video' },
          { mid: '5', peerId: 'a', kind: 'video', source: 'screen' },
          { mid: '6', kind: 'video' },
        ],
      },
    });
    expect(parseServerMessage('{"type":"signal","from":"sfu","data":{"candidate":null}}')).toEqual({
      type: 'signal',
      from: 'sfu',
      data: { candidate: null },
    });
    expect(parseServerMessage('{"type":"signal","from":"a","data":{"candidate":"x"}}')).toBeNull();
    expect(parseServerMessage('{"type":"signal","data":{}}')).toBeNull();
  });
});

describe('participant state', () => {
  const state = { mic: false, camera: true, screen: false, speaking: true, quality: 'fair' };

  it('parses a relayed state and the state in welcome', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'state', peerId: 'b', ...state, extra: 1 }))).toEqual({
      type: 'state',
      peerId: 'b',
      state,
    });
    const welcome = parseServerMessage(
      JSON.stringify({
        type: 'welcome',
        id: 'me',
        participants: [{ id: 'b', name: 'Bob', state: { ...state, quality: null } }, { id: 'c', name: 'Old' }],
      }),
    );
    expect(welcome).toMatchObject({
      participants: [{ id: 'b', name: 'Bob', state: { ...state, quality: null } }, { id: 'c', name: 'Old' }],
    });
  });

  it('drops a malformed state', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'state', peerId: 'b', ...state, mic: 'no' }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'state', ...state }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'state', peerId: 'b', ...state, quality: 'ok' }))).toMatchObject({
      state: { quality: null },
    });
  });
});

describe('sfu bandwidth messages', () => {
  it('parses video-paused, link-quality and layers', () => {
    expect(parseServerMessage('{"type":"video-paused","mids":["3",5,"",null]}')).toEqual({
      type: 'video-paused',
      mids: ['3', '5'],
    });
    expect(parseServerMessage('{"type":"link-quality","quality":"poor","kbps":120}')).toEqual({
      type: 'link-quality',
      quality: 'poor',
      kbps: 120,
    });
    expect(parseServerMessage('{"type":"link-quality","quality":"good"}')).toMatchObject({ kbps: null });
    expect(parseServerMessage('{"type":"layers","mid":"1","active":["q","h",2]}')).toEqual({
      type: 'layers',
      mid: '1',
      active: ['q', 'h'],
    });
  });

  it('drops malformed ones', () => {
    expect(parseServerMessage('{"type":"video-paused"}')).toBeNull();
    expect(parseServerMessage('{"type":"link-quality","quality":"bad"}')).toBeNull();
    expect(parseServerMessage('{"type":"layers","active":["q"]}')).toBeNull();
    expect(parseServerMessage('{"type":"layers","mid":"1","active":"q"}')).toBeNull();
  });
});

describe('cleanName', () => {
  it('trims and cuts to 40 characters', () => {
    expect(cleanName('  Alice  ')).toBe('Alice');
    expect(cleanName('x'.repeat(50))).toHaveLength(40);
    expect(cleanName('   ')).toBe('');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(Array.from(cleanName('😀'.repeat(45)))).toHaveLength(40);
  });
});
