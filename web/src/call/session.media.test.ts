// CallSession with fakes (session.fakes.ts), the parts issue 13 added: our
// state reported to the room and the others' applied to their tiles, the
// speaking indicator, switching and losing devices, sharing a screen, and
// the connection-quality indicator.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientMessage, PeerState } from '../protocol/messages';
import { SCREEN_TAKEN } from './presence';
import { QUALITY_EVERY_MS } from './qualityPoll';
import { BOB, fakeStream, inCall, opened, setup, type FakeTrack } from './session.fakes';
import { HOLD_MS, SAMPLE_MS } from './speaking';

const QUIET: PeerState = { mic: true, camera: true, screen: false, speaking: false, quality: null };

function states(sent: ClientMessage[]): ClientMessage[] {
  return sent.filter((m) => m.type === 'state');
}

describe('CallSession: participant state', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports its state after welcome and on every change, never twice the same', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    expect(states(socket.sent)).toEqual([{ type: 'state', ...QUIET }]);
    ctx.session.toggleMic();
    ctx.session.toggleCamera();
    ctx.session.toggleCamera();
    expect(states(socket.sent).slice(1)).toEqual([
      { type: 'state', ...QUIET, mic: false },
      { type: 'state', ...QUIET, mic: false, camera: false },
      { type: 'state', ...QUIET, mic: false },
    ]);
  });

  it("shows the others' state from welcome and from state messages", async () => {
    const ctx = setup();
    await ctx.session.join('Alice');
    const socket = ctx.lastSocket();
    socket.open();
    const muted = { ...QUIET, mic: false };
    socket.receive({
      type: 'welcome',
      id: 'me',
      participants: [{ ...BOB, state: muted }, { id: 'old', name: 'Old client' }],
      iceServers: [],
      iceTransportPolicy: 'all',
      mediaTransport: 'ws',
      mediaPeers: [],
    });
    expect(ctx.session.getSnapshot().participants.map((p) => p.state)).toEqual([muted, null]);
    socket.receive({ type: 'state', peerId: 'bob', state: { ...muted, speaking: true } });
    expect(ctx.session.getSnapshot().participants[0].state).toEqual({ ...muted, speaking: true });
    expect(ctx.lastTransport().messages.map((m) => m.type)).toContain('state'); // webrtc uses it
  });

  it('is speaking while its microphone hears speech, with hysteresis, and never while muted', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    ctx.meter.level = 0.2;
    vi.advanceTimersByTime(SAMPLE_MS);
    expect(ctx.session.getSnapshot().speaking).toBe(true);
    expect(states(socket.sent).at(-1)).toMatchObject({ speaking: true });
    ctx.meter.level = 0;
    vi.advanceTimersByTime(HOLD_MS / 2);
    expect(ctx.session.getSnapshot().speaking).toBe(true); // a pause between words
    vi.advanceTimersByTime(HOLD_MS);
    expect(ctx.session.getSnapshot().speaking).toBe(false);
    ctx.meter.level = 0.2;
    vi.advanceTimersByTime(SAMPLE_MS);
    ctx.session.toggleMic();
    expect(ctx.session.getSnapshot().speaking).toBe(false);
    vi.advanceTimersByTime(SAMPLE_MS * 5);
    expect(states(socket.sent).at(-1)).toMatchObject({ mic: false, speaking: false });
  });

  it('joins without a camera and says why', async () => {
    const ctx = setup({ openLocalMedia: async () => opened(fakeStream(['audio']).stream, 'denied') });
    const socket = await inCall(ctx);
    expect(ctx.session.getSnapshot()).toMatchObject({ hasCamera: false, hasMic: true, notice: 'camera-denied' });
    expect(states(socket.sent)).toEqual([{ type: 'state', ...QUIET, camera: false }]);
  });

  it('joins with the preview the join screen opened', async () => {
    const ctx = setup({ openLocalMedia: () => Promise.reject(new Error('must not open')) });
    const preview = fakeStream();
    await ctx.session.join('Alice', opened(preview.stream));
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'connecting', localStream: preview.stream });
  });
});

describe('CallSession: devices', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('switches the camera without rejoining: the transport sends the new track, the old one stops', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    ctx.session.toggleCamera(); // off stays off on the new camera
    await ctx.session.switchDevice('camera', 'cam-2');
    const [{ track, exact }] = ctx.devices.opened;
    expect(exact).toBe(true);
    expect(ctx.lastTransport().changes).toEqual([{ source: 'camera', track }]);
    expect(track.enabled).toBe(false);
    expect(ctx.media.tracks[1].stopped).toBe(true);
    expect(ctx.devices.saved.camera).toBe('cam-2');
    expect(ctx.session.getSnapshot()).toMatchObject({ cameraDevice: 'cam-2', hasCamera: true, phase: 'in-call' });
    expect(ctx.session.getSnapshot().localStream?.getVideoTracks()).toEqual([track]);
    expect(ctx.sockets).toHaveLength(1);
    expect(socket.closedWith).toBeNull();
  });

  it('a device that fails to open changes nothing and says so', async () => {
    const ctx = setup();
    await inCall(ctx);
    ctx.devices.missing.add('mic');
    await ctx.session.switchDevice('mic', 'broken');
    expect(ctx.session.getSnapshot()).toMatchObject({ notice: 'device-failed', hasMic: true });
    expect(ctx.lastTransport().changes).toEqual([]);
  });

  it('recovers when the device in use disappears, or waits for one to appear', async () => {
    const ctx = setup();
    await inCall(ctx);
    const transport = ctx.lastTransport();
    ctx.media.tracks[1].end(); // the USB camera is unplugged; another camera is there
    await vi.runOnlyPendingTimersAsync();
    expect(transport.changes.map((c) => [c.source, c.track !== null])).toEqual([
      ['camera', false],
      ['camera', true],
    ]);
    expect(ctx.session.getSnapshot()).toMatchObject({ hasCamera: true, notice: null });

    ctx.devices.missing.add('mic');
    ctx.media.tracks[0].end(); // the only microphone goes
    await vi.runOnlyPendingTimersAsync();
    expect(ctx.session.getSnapshot()).toMatchObject({ hasMic: false, notice: 'mic-lost' });
    ctx.devices.missing.delete('mic');
    ctx.devices.change(); // a headset is plugged in
    await vi.runOnlyPendingTimersAsync();
    expect(ctx.session.getSnapshot()).toMatchObject({ hasMic: true, notice: null });
    expect(transport.changes.at(-1)?.source).toBe('mic');
  });
});

describe('CallSession: screen sharing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shares a screen and stops from the button or the browser bar', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    await ctx.session.toggleScreen();
    const [screen] = ctx.devices.screens;
    expect(ctx.lastTransport().changes).toEqual([{ source: 'screen', track: screen }]);
    expect(ctx.session.getSnapshot().screenStream?.getVideoTracks()).toEqual([screen]);
    expect(states(socket.sent).at(-1)).toMatchObject({ screen: true });
    await ctx.session.toggleScreen();
    expect(screen.stopped).toBe(true);
    expect(ctx.session.getSnapshot().screenStream).toBeNull();
    expect(states(socket.sent).at(-1)).toMatchObject({ screen: false });

    await ctx.session.toggleScreen();
    (ctx.devices.screens[1] as FakeTrack).end(); // "Stop sharing" in the browser's bar
    expect(ctx.session.getSnapshot().screenStream).toBeNull();
    expect(ctx.lastTransport().changes.map((c) => c.track !== null)).toEqual([true, false, true, false]);
  });

  it('one screen at a time: says so when someone else shares, stops when the server refuses', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    socket.receive({ type: 'state', peerId: 'bob', state: { ...QUIET, screen: true } });
    await ctx.session.toggleScreen();
    expect(ctx.devices.screens).toEqual([]);
    expect(ctx.session.getSnapshot().notice).toBe('screen-taken');

    socket.receive({ type: 'state', peerId: 'bob', state: QUIET });
    await ctx.session.toggleScreen();
    socket.receive({ type: 'error', message: SCREEN_TAKEN }); // Bob was a moment faster
    expect(ctx.devices.screens[0].stopped).toBe(true);
    expect(ctx.session.getSnapshot()).toMatchObject({ screenStream: null, notice: 'screen-taken', error: null });
  });

  it('a cancelled picker is no error', async () => {
    const ctx = setup();
    await inCall(ctx);
    ctx.devices.screenError = 'NotAllowedError';
    await ctx.session.toggleScreen();
    expect(ctx.session.getSnapshot()).toMatchObject({ screenStream: null, notice: null });
    ctx.devices.screenError = 'AbortError';
    await ctx.session.toggleScreen();
    expect(ctx.session.getSnapshot().notice).toBe('screen-failed');
  });
});

describe('CallSession: connection quality', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows what the transport measures and reports its own', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    ctx.lastTransport().report = { own: 'poor', peers: { bob: 'fair' } };
    await vi.advanceTimersByTimeAsync(QUALITY_EVERY_MS);
    expect(ctx.session.getSnapshot().quality).toBe('poor');
    expect(ctx.session.getSnapshot().participants[0].received).toBe('fair');
    expect(states(socket.sent).at(-1)).toMatchObject({ quality: 'poor' });
    ctx.session.leave();
    expect(ctx.session.getSnapshot().quality).toBeNull();
  });

  it('shows a link being restored as reconnecting, and reports it as poor', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    ctx.lastTransport().report = { own: 'reconnecting', peers: { bob: 'reconnecting' } };
    await vi.advanceTimersByTimeAsync(QUALITY_EVERY_MS);
    expect(ctx.session.getSnapshot()).toMatchObject({ quality: 'reconnecting' });
    expect(ctx.session.getSnapshot().participants[0].received).toBe('reconnecting');
    expect(states(socket.sent).at(-1)).toMatchObject({ quality: 'poor' });
  });
});
