// WsPublisher against a fake MediaRecorder and a fake socket: chunk order,
// the congestion restart, and that no chunk of the live recorder is dropped.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientMessage } from '../../protocol/messages';
import { PeerVideos } from '../peerVideos';
import type { TransportHost } from '../types';
import {
  CONGESTION_RESTART_MS,
  FINAL_CHUNK_WAIT_MS,
  HIGH_WATER_BYTES,
  KEYFRAME_RESTART_MIN_MS,
  LOW_WATER_BYTES,
  TIMESLICE_MS,
  WsPublisher,
} from './publisher';

class FakeRecorder {
  static instances: FakeRecorder[] = [];
  static isTypeSupported = (type: string) => type === 'video/webm;codecs=vp8,opus';
  state: 'inactive' | 'recording' = 'inactive';
  timeslice = 0;
  ondataavailable: ((event: { data: { size: number; id: string } }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  private stopListeners: (() => void)[] = [];

  constructor(
    readonly stream: unknown,
    readonly options: Record<string, unknown>,
  ) {
    FakeRecorder.instances.push(this);
  }

  start(timeslice: number): void {
    this.state = 'recording';
    this.timeslice = timeslice;
  }

  stop(): void {
    this.state = 'inactive';
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === 'stop') this.stopListeners.push(listener);
  }

  emit(id: string): void {
    this.ondataavailable?.({ data: { size: 10, id } });
  }

  /** What a browser does after stop(): the last chunk, then the `stop` event. */
  finish(lastId: string): void {
    this.emit(lastId);
    for (const listener of this.stopListeners.splice(0)) listener();
  }
}

type Sent = { text: ClientMessage } | { binary: string };

function makeHost() {
  const sent: Sent[] = [];
  let buffered = 0;
  const track = (kind: string) => ({ kind }) as unknown as MediaStreamTrack;
  const local = { mic: track('audio'), camera: track('video'), screen: null as MediaStreamTrack | null };
  const host: TransportHost = {
    local: { ...local, stream: {} as MediaStream },
    videos: new PeerVideos(() => undefined),
    send: (m) => sent.push({ text: m }),
    sendBinary: (d) => sent.push({ binary: (d as unknown as { id: string }).id }),
    bufferedAmount: () => buffered,
    log: () => undefined,
    playbackBlocked: () => undefined,
    videosPaused: () => undefined,
    rejoin: () => undefined,
  };
  return { host, sent, setBuffered: (n: number) => (buffered = n) };
}

describe('WsPublisher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeRecorder.instances = [];
    vi.stubGlobal('MediaRecorder', FakeRecorder);
    vi.stubGlobal(
      'MediaStream',
      class {
        constructor(readonly tracks: unknown[]) {}
      },
    );
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('announces the stream, then sends every chunk in order', () => {
    const { host, sent } = makeHost();
    const publisher = new WsPublisher(host);
    publisher.start();
    const rec = FakeRecorder.instances[0];
    expect(rec.timeslice).toBe(TIMESLICE_MS);
    expect(rec.options).toMatchObject({ mimeType: 'video/webm;codecs=vp8,opus', videoKeyFrameIntervalDuration: 1000 });
    rec.emit('c1');
    rec.emit('c2');
    expect(sent).toEqual([
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'c1' },
      { binary: 'c2' },
    ]);
    publisher.stop(true);
    expect(sent.at(-1)).toEqual({ text: { type: 'media-stop' } });
    expect(rec.state).toBe('inactive');
  });

  it('keeps sending through short congestion', () => {
    const { host, sent, setBuffered } = makeHost();
    const publisher = new WsPublisher(host);
    publisher.start();
    setBuffered(HIGH_WATER_BYTES * 2);
    vi.advanceTimersByTime(CONGESTION_RESTART_MS - 500);
    setBuffered(0);
    vi.advanceTimersByTime(5000);
    FakeRecorder.instances[0].emit('c1');
    expect(FakeRecorder.instances).toHaveLength(1);
    expect(sent.filter((s) => 'binary' in s)).toHaveLength(1);
  });

  it('restarts the recorder with a new media-start under sustained congestion', () => {
    const { host, sent, setBuffered } = makeHost();
    const publisher = new WsPublisher(host);
    publisher.start();
    const first = FakeRecorder.instances[0];
    first.emit('a1');
    setBuffered(HIGH_WATER_BYTES * 2);
    first.emit('a2'); // congested, but still sent: never dropped
    vi.advanceTimersByTime(CONGESTION_RESTART_MS + 500);
    expect(first.state).toBe('inactive');
    first.emit('late'); // the stopped recorder's final chunk must not enter the next stream
    expect(FakeRecorder.instances).toHaveLength(1); // waits for the backlog to drain
    setBuffered(LOW_WATER_BYTES - 1);
    vi.advanceTimersByTime(300);
    expect(FakeRecorder.instances).toHaveLength(2);
    FakeRecorder.instances[1].emit('b1');
    expect(sent).toEqual([
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'a1' },
      { binary: 'a2' },
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'b1' },
    ]);
    expect(publisher.restarts).toBe(1);
    publisher.stop(false);
    expect(sent.at(-1)).toEqual({ binary: 'b1' });
  });

  it('records anew on media-keyframe (a fresh stream starts with a keyframe), not too often', () => {
    const { host, sent } = makeHost();
    const publisher = new WsPublisher(host);
    publisher.start();
    const first = FakeRecorder.instances[0];
    first.emit('a1');
    publisher.requestKeyframe(10_000);
    publisher.requestKeyframe(10_000 + KEYFRAME_RESTART_MIN_MS - 1); // too soon: ignored
    expect(first.state).toBe('inactive');
    expect(FakeRecorder.instances).toHaveLength(1); // waits for the old recording's last chunk…
    first.finish('a2'); // …which ends the old stream, before the new one is announced
    expect(FakeRecorder.instances).toHaveLength(2);
    first.emit('late'); // nothing of the old recorder after its stop event
    FakeRecorder.instances[1].emit('b1');
    expect(sent).toEqual([
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'a1' },
      { binary: 'a2' },
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'b1' },
    ]);
    expect(publisher.keyframeRestarts).toBe(1);
    publisher.requestKeyframe(10_000 + KEYFRAME_RESTART_MIN_MS);
    vi.advanceTimersByTime(FINAL_CHUNK_WAIT_MS); // a recorder that never says it stopped
    expect(FakeRecorder.instances).toHaveLength(3);
    FakeRecorder.instances[1].finish('b-late'); // too late: the next stream is announced
    expect(sent.at(-1)).toEqual({ text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } });
    expect(FakeRecorder.instances).toHaveLength(3);
    publisher.stop(false);
    publisher.requestKeyframe(20_000); // stopped: nothing to restart
    expect(FakeRecorder.instances).toHaveLength(3);
  });

  it('records a changed track anew after the old recording\'s last chunk, and not at all once stopped', () => {
    const { host, sent } = makeHost();
    const publisher = new WsPublisher(host);
    publisher.start();
    const first = FakeRecorder.instances[0];
    publisher.restart(); // another camera
    first.finish('a-last');
    expect(FakeRecorder.instances).toHaveLength(2);
    FakeRecorder.instances[1].emit('b1');
    expect(sent.slice(1)).toEqual([
      { binary: 'a-last' },
      { text: { type: 'media-start', mimeType: 'video/webm;codecs=vp8,opus' } },
      { binary: 'b1' },
    ]);
    publisher.restart();
    publisher.stop(false); // left while the old recording was ending
    FakeRecorder.instances[1].finish('b-last');
    vi.advanceTimersByTime(FINAL_CHUNK_WAIT_MS);
    expect(FakeRecorder.instances).toHaveLength(2);
    expect(sent.at(-1)).toEqual({ binary: 'b1' });
  });
});
