// CallSession with a fake socket, transport and camera (session.fakes.ts): the
// join → welcome → in-call path, server errors, close codes, reconnect with
// backoff, the transport's rejoin, leaving during the permission prompt,
// unsupported modes. Timers are Vitest's fake timers.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalMediaError } from './localMedia';
import { BOB, deferred, fakeStream, inCall, opened, setup, welcome } from './session.fakes';
import type { OpenedMedia } from './localMedia';
import { ERROR_VISIBLE_MS, REJOIN_CLOSE_CODE } from './session';

describe('CallSession', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins: camera, socket, join message, then welcome puts it in the call', async () => {
    const ctx = setup();
    const { session } = ctx;
    const joining = session.join('  Alice  ');
    expect(session.getSnapshot().phase).toBe('starting');
    await joining;
    expect(session.getSnapshot()).toMatchObject({ phase: 'connecting', localStream: ctx.media.stream, camOn: true });
    const socket = ctx.lastSocket();
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'join', name: 'Alice' }]);

    socket.receive(welcome('me', [BOB]));
    expect(session.getSnapshot()).toMatchObject({
      phase: 'in-call',
      selfId: 'me',
      mode: 'ws',
      participants: [BOB],
      reconnected: false,
      error: null,
    });
    const transport = ctx.lastTransport();
    expect(transport).toMatchObject({ kind: 'ws', selfId: 'me' });
    expect(transport.welcome?.id).toBe('me');
    expect(ctx.events()).toEqual(['join', 'joined']);

    // The transport talks through this socket.
    transport.host.send({ type: 'media-stop' });
    expect(socket.sent.at(-1)).toEqual({ type: 'media-stop' });
    expect(await session.debug()).toEqual({ kind: 'ws', peers: {} });
  });

  it('keeps the roster and hands room messages and binary frames to the transport', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    const carol = { id: 'carol', name: 'Carol' };
    socket.receive({ type: 'peer-joined', peer: carol });
    expect(ctx.session.getSnapshot().participants).toEqual([
      { ...BOB, state: null, received: null },
      { ...carol, state: null, received: null },
    ]);
    expect(ctx.joinedPeers).toEqual([carol]);
    socket.receive({ type: 'peer-left', peerId: 'bob' });
    expect(ctx.session.getSnapshot().participants.map((p) => p.id)).toEqual(['carol']);
    const frame = new ArrayBuffer(4);
    socket.receiveBinary(frame);
    const transport = ctx.lastTransport();
    expect(transport.messages.map((m) => m.type)).toEqual(['peer-joined', 'peer-left']);
    expect(transport.frames).toEqual([frame]);
  });

  it('ignores binary frames when the transport takes none', async () => {
    const ctx = setup({
      createTransport: (kind) => ({
        kind,
        start: () => undefined,
        handleMessage: () => undefined,
        debug: async () => ({ kind, peers: {} }),
        localTrackChanged: () => undefined,
        quality: async () => ({ own: null, peers: {} }),
        close: () => undefined,
      }),
    });
    const socket = await inCall(ctx);
    expect(() => socket.receiveBinary(new ArrayBuffer(4))).not.toThrow();
    expect(ctx.session.getSnapshot().phase).toBe('in-call');
  });

  it('uses the configured mode when welcome names none', async () => {
    const ctx = setup();
    await ctx.session.join('Alice');
    ctx.lastSocket().open();
    ctx.lastSocket().receive(welcome('me', [], null));
    expect(ctx.lastTransport().kind).toBe('ws');
  });

  it('shows a server error in the call and fades it', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    socket.receive({ type: 'error', message: 'Peer is no longer available.' });
    const shown = { kind: 'server', message: 'Peer is no longer available.' };
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'in-call', error: shown });
    expect(ctx.lastTransport().messages).toEqual([]);
    vi.advanceTimersByTime(ERROR_VISIBLE_MS / 2);
    socket.receive({ type: 'error', message: 'Invalid JSON.' }); // a newer notice gets its own time
    vi.advanceTimersByTime(ERROR_VISIBLE_MS / 2);
    expect(ctx.session.getSnapshot().error).toEqual({ kind: 'server', message: 'Invalid JSON.' });
    vi.advanceTimersByTime(ERROR_VISIBLE_MS / 2);
    expect(ctx.session.getSnapshot().error).toBeNull();
    expect(socket.closedWith).toBeNull();
    expect(ctx.events()).toContain('server-error');
  });

  it('lets the user dismiss an error', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    socket.receive({ type: 'error', message: 'Invalid JSON.' });
    ctx.session.dismissError();
    expect(ctx.session.getSnapshot().error).toBeNull();
  });

  it('treats close 1008 as final: the error stays, the camera stops, no reconnect', async () => {
    const ctx = setup();
    await ctx.session.join('Second');
    const socket = ctx.lastSocket();
    socket.open();
    socket.receive({ type: 'error', message: 'Room is full.' });
    socket.drop(1008);
    expect(ctx.session.getSnapshot()).toMatchObject({
      phase: 'idle',
      localStream: null,
      error: { kind: 'server', message: 'Room is full.' },
    });
    expect(ctx.media.tracks.every((t) => t.stopped)).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(ctx.sockets).toHaveLength(1);
    expect(ctx.session.getSnapshot().error).toEqual({ kind: 'server', message: 'Room is full.' }); // not faded
  });

  it('shows the close reason of a 1008 without an error message, else "disconnected"', async () => {
    const withReason = setup();
    const first = await inCall(withReason);
    first.drop(1008, 'Policy violation.');
    expect(withReason.session.getSnapshot().error).toEqual({ kind: 'server', message: 'Policy violation.' });
    expect(withReason.lastTransport().closed).toBe(false);

    const without = setup();
    (await inCall(without)).drop(1008);
    expect(without.session.getSnapshot().error).toEqual({ kind: 'disconnected' });
  });

  it('reconnects after other closes with growing delays and rejoins under the same name', async () => {
    const ctx = setup();
    const first = await inCall(ctx);
    const firstTransport = ctx.lastTransport();
    first.drop(1006);
    expect(firstTransport.closed).toBe(false);
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'reconnecting', reconnectIn: 1, participants: [BOB] });
    vi.advanceTimersByTime(999);
    expect(ctx.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(ctx.sockets).toHaveLength(2);
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'reconnecting', reconnectIn: null });

    // The server is still away: the next wait is longer.
    ctx.lastSocket().drop(1006);
    expect(ctx.session.getSnapshot().reconnectIn).toBe(2);
    vi.advanceTimersByTime(2000);
    const third = ctx.lastSocket();
    expect(ctx.sockets).toHaveLength(3);
    third.open();
    expect(third.sent).toEqual([{ type: 'join', name: 'Alice' }]);
    third.receive(welcome('me-again', [BOB]));
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'in-call', selfId: 'me-again', reconnected: true });
    expect(ctx.transports).toHaveLength(2);
    expect(ctx.events()).toContain('rejoined');
    expect(ctx.logs.filter((l) => l.event === 'reconnect').map((l) => l.fields)).toEqual([
      expect.objectContaining({ attempt: 1, code: 1006, delayMs: 1000 }),
      expect.objectContaining({ attempt: 2, code: 1006, delayMs: 2000 }),
    ]);

    // Back in the call, the delays start over.
    third.drop(1001);
    expect(ctx.attempts).toEqual([0, 1, 0]);
  });

  it('counts down to the next attempt', async () => {
    const ctx = setup({ reconnectDelay: () => 3000 });
    (await inCall(ctx)).drop(1006);
    const seen = [ctx.session.getSnapshot().reconnectIn];
    for (let i = 0; i < 5; i += 1) {
      vi.advanceTimersByTime(500);
      seen.push(ctx.session.getSnapshot().reconnectIn);
    }
    expect(seen).toEqual([3, 3, 2, 2, 1, 1]);
  });

  it('says "connecting", not "reconnecting", before the first welcome', async () => {
    const ctx = setup();
    await ctx.session.join('Alice');
    ctx.lastSocket().drop(1006);
    expect(ctx.session.getSnapshot().phase).toBe('connecting');
    vi.advanceTimersByTime(1000);
    expect(ctx.sockets).toHaveLength(2);
  });

  it("rejoins when the transport asks, and ignores a stale transport's request", async () => {
    const ctx = setup();
    const first = await inCall(ctx);
    const firstTransport = ctx.lastTransport();
    firstTransport.host.rejoin('sfu-connection-failed');
    expect(first.closedWith).toBe(REJOIN_CLOSE_CODE);
    expect(firstTransport.closed).toBe(false);
    expect(ctx.session.getSnapshot().phase).toBe('reconnecting');
    expect(ctx.logs).toContainEqual({ event: 'media-rejoin', fields: expect.objectContaining({ reason: 'sfu-connection-failed' }) });
    vi.advanceTimersByTime(1000);
    const second = ctx.lastSocket();
    second.open();
    second.receive(welcome('me-again'));
    expect(ctx.session.getSnapshot().phase).toBe('in-call');

    firstTransport.host.rejoin('late');
    expect(second.closedWith).toBeNull();
    expect(ctx.session.getSnapshot().phase).toBe('in-call');
    expect(ctx.sockets).toHaveLength(2);
  });

  it('leaving closes the transport as leaving and the socket normally', async () => {
    const ctx = setup();
    const socket = await inCall(ctx);
    ctx.session.leave();
    expect(ctx.lastTransport().closed).toBe(true);
    expect(socket.closedWith).toBe(1000);
    expect(ctx.media.tracks.every((t) => t.stopped)).toBe(true);
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'idle', selfId: null, participants: [], error: null });
  });

  it('leaving while reconnecting cancels the next attempt', async () => {
    const ctx = setup();
    (await inCall(ctx)).drop(1006);
    ctx.session.leave();
    vi.advanceTimersByTime(60_000);
    expect(ctx.sockets).toHaveLength(1);
    expect(ctx.session.getSnapshot().phase).toBe('idle');
  });

  it('leaving during the permission prompt stops the late stream and opens no socket', async () => {
    const prompt = deferred<OpenedMedia>();
    const ctx = setup({ openLocalMedia: () => prompt.promise });
    const joining = ctx.session.join('Alice');
    expect(ctx.session.getSnapshot().phase).toBe('starting');
    ctx.session.leave();
    expect(ctx.session.getSnapshot().phase).toBe('idle');
    prompt.resolve(opened(ctx.media.stream));
    await joining;
    expect(ctx.media.tracks.every((t) => t.stopped)).toBe(true);
    expect(ctx.sockets).toHaveLength(0);
    expect(ctx.session.getSnapshot()).toMatchObject({ phase: 'idle', localStream: null });
  });

  it('a join after leaving during the prompt is not taken over by the first prompt', async () => {
    const prompts = [deferred<OpenedMedia>(), deferred<OpenedMedia>()];
    const streams = [fakeStream(), fakeStream()];
    let calls = 0;
    const ctx = setup({ openLocalMedia: () => prompts[calls++].promise });
    const first = ctx.session.join('Alice');
    ctx.session.leave();
    const second = ctx.session.join('Alice');
    prompts[0].resolve(opened(streams[0].stream));
    await first;
    expect(streams[0].tracks.every((t) => t.stopped)).toBe(true);
    expect(ctx.sockets).toHaveLength(0);
    prompts[1].resolve(opened(streams[1].stream));
    await second;
    expect(ctx.sockets).toHaveLength(1);
    expect(ctx.session.getSnapshot().localStream).toBe(streams[1].stream);
  });

  it('reports a refused or missing camera and microphone', async () => {
    const denied = setup({ openLocalMedia: () => Promise.reject(new LocalMediaError('denied', 'NotAllowedError')) });
    await denied.session.join('Alice');
    expect(denied.session.getSnapshot()).toMatchObject({ phase: 'idle', error: { kind: 'media-denied' } });
    expect(denied.sockets).toHaveLength(0);

    const failed = setup({ openLocalMedia: () => Promise.reject(new Error('NotFoundError')) });
    await failed.session.join('Alice');
    expect(failed.session.getSnapshot()).toMatchObject({ phase: 'idle', error: { kind: 'media-failed' } });
  });

  it('leaves with the missing features named when the browser cannot do the mode', async () => {
    const ctx = setup({ missingFeatures: (mode) => (mode === 'webrtc' ? ['RTCPeerConnection'] : []) });
    await ctx.session.join('Alice');
    const socket = ctx.lastSocket();
    socket.open();
    socket.receive(welcome('me', [BOB], 'webrtc'));
    expect(ctx.session.getSnapshot()).toMatchObject({
      phase: 'idle',
      error: { kind: 'unsupported', missing: ['RTCPeerConnection'], mode: 'webrtc' },
    });
    expect(ctx.transports).toHaveLength(0);
    expect(socket.closedWith).toBe(1000);
    expect(ctx.media.tracks.every((t) => t.stopped)).toBe(true);
    expect(ctx.events()).toContain('unsupported');
  });

  it('does not join with an empty name or twice', async () => {
    const ctx = setup();
    await ctx.session.join('   ');
    expect(ctx.session.getSnapshot().phase).toBe('idle');
    await inCall(ctx);
    await ctx.session.join('Alice');
    expect(ctx.sockets).toHaveLength(1);
  });

  it('toggles the microphone and camera without stopping them', async () => {
    const ctx = setup();
    await inCall(ctx);
    ctx.session.toggleMic();
    ctx.session.toggleCamera();
    expect(ctx.session.getSnapshot()).toMatchObject({ micOn: false, camOn: false });
    expect(ctx.media.tracks.map((t) => [t.kind, t.enabled, t.stopped])).toEqual([
      ['audio', false, false],
      ['video', false, false],
    ]);
    ctx.session.toggleMic();
    expect(ctx.media.tracks[0].enabled).toBe(true);
  });

  it('offers a tap when playback is blocked, and clears it on resume', async () => {
    const ctx = setup();
    await inCall(ctx);
    ctx.lastTransport().host.playbackBlocked();
    expect(ctx.session.getSnapshot().playbackBlocked).toBe(true);
    ctx.session.resumePlayback();
    expect(ctx.session.getSnapshot().playbackBlocked).toBe(false);
  });

  it("shows the tiles the transport reports paused, and forgets them when the socket drops", async () => {
    const ctx = setup();
    await inCall(ctx);
    const transport = ctx.lastTransport();
    transport.host.videosPaused(['bob']);
    expect(ctx.session.getSnapshot().pausedVideos).toEqual(['bob']);
    transport.host.videosPaused([]);
    expect(ctx.session.getSnapshot().pausedVideos).toEqual([]);
    transport.host.videosPaused(['bob']);
    ctx.lastSocket().drop(1006);
    expect(ctx.session.getSnapshot().pausedVideos).toEqual([]);
    transport.host.videosPaused(['carol']); // a transport of a socket gone: ignored
    expect(ctx.session.getSnapshot().pausedVideos).toEqual([]);
  });

  it('notifies subscribers of every change until they unsubscribe', async () => {
    const ctx = setup();
    const seen: string[] = [];
    const unsubscribe = ctx.session.subscribe(() => seen.push(ctx.session.getSnapshot().phase));
    await inCall(ctx);
    unsubscribe();
    ctx.session.leave();
    expect(seen).toContain('in-call');
    expect(seen).not.toContain('idle');
  });
});
