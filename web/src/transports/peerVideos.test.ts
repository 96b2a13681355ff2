import { describe, expect, it } from 'vitest';
import { PeerVideos } from './peerVideos';

class FakeVideo {
  srcObject: unknown = null;
  plays = 0;
  private source: string | null = null;

  play(): Promise<void> {
    this.plays += 1;
    return Promise.resolve();
  }

  hasAttribute(name: string): boolean {
    return name === 'src' && this.source !== null;
  }

  removeAttribute(): void {
    this.source = null;
  }

  load(): void {}
}

const video = () => new FakeVideo() as unknown as HTMLVideoElement & FakeVideo;
const stream = () => ({}) as MediaStream;

describe('PeerVideos', () => {
  it('shows a stream in the mounted tile and again when the tile remounts', () => {
    const videos = new PeerVideos(() => undefined);
    const first = video();
    videos.set('bob', first);
    const s = stream();
    videos.show('bob', s);
    expect(first.srcObject).toBe(s);
    expect(first.plays).toBe(1);
    videos.set('bob', null);
    expect(videos.get('bob')).toBeNull();
    const second = video();
    videos.set('bob', second);
    expect(second.srcObject).toBe(s);
  });

  it('remembers a stream shown before its tile mounts, until cleared', () => {
    const videos = new PeerVideos(() => undefined);
    const s = stream();
    videos.show('bob', s);
    const v = video();
    videos.set('bob', v);
    expect(v.srcObject).toBe(s);
    videos.clear('bob');
    expect(v.srcObject).toBeNull();
    const again = video();
    videos.set('bob', again);
    expect(again.srcObject).toBeNull();
  });

  it('tells watchers about mounts and unmounts until they unsubscribe', () => {
    const videos = new PeerVideos(() => undefined);
    const seen: [string, boolean][] = [];
    const unwatch = videos.watch((peerId, v) => seen.push([peerId, v !== null]));
    videos.set('bob', video());
    videos.set('bob', null);
    unwatch();
    videos.set('carol', video());
    expect(seen).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
  });

  it('reports a refused autoplay and retries every element on request', async () => {
    let blocked = 0;
    const videos = new PeerVideos(() => (blocked += 1));
    const v = video();
    v.play = () => Promise.reject(new DOMException('no gesture', 'NotAllowedError'));
    videos.set('bob', v);
    videos.show('bob', stream());
    await Promise.resolve();
    await Promise.resolve();
    expect(blocked).toBe(1);
    const other = video();
    videos.set('carol', other);
    videos.playAll();
    expect(other.plays).toBe(1);
  });
});
