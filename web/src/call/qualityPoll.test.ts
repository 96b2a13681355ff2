// QualityPoll alone: a fake transport and a plain state object, fake timers.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QualityReport } from '../transports/quality';
import type { Transport } from '../transports/types';
import { QUALITY_EVERY_MS, QualityPoll } from './qualityPoll';
import { INITIAL, type CallState } from './state';

const BOB = { id: 'bob', name: 'Bob', state: null, received: null };

type FakeTransport = Transport & { report: QualityReport };

function fakeTransport(report: QualityReport): FakeTransport {
  const fake = { report, quality: async () => fake.report };
  return fake as unknown as FakeTransport;
}

function setup(phase: CallState['phase'] = 'in-call') {
  const ctx = {
    state: { ...INITIAL, phase, participants: [BOB] } as CallState,
    transport: fakeTransport({ own: 'good', peers: { bob: 'fair' } }) as FakeTransport | null,
    patches: [] as Pick<CallState, 'quality' | 'participants'>[],
  };
  const poll = new QualityPoll({
    transport: () => ctx.transport,
    state: () => ctx.state,
    changed: (patch) => {
      ctx.patches.push(patch);
      ctx.state = { ...ctx.state, ...patch };
    },
  });
  return { ctx, poll };
}

describe('QualityPoll', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('folds the report into the state every QUALITY_EVERY_MS, until stopped', async () => {
    const { ctx, poll } = setup();
    poll.start();
    await vi.advanceTimersByTimeAsync(QUALITY_EVERY_MS - 1);
    expect(ctx.patches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ctx.state.quality).toBe('good');
    expect(ctx.state.participants[0].received).toBe('fair');
    ctx.transport!.report = { own: 'poor', peers: {} };
    await vi.advanceTimersByTimeAsync(QUALITY_EVERY_MS);
    expect(ctx.state.quality).toBe('poor');
    expect(ctx.state.participants[0].received).toBeNull();
    poll.stop();
    ctx.transport!.report = { own: 'fair', peers: {} };
    await vi.advanceTimersByTimeAsync(QUALITY_EVERY_MS * 3);
    expect(ctx.patches).toHaveLength(2);
  });

  it('says nothing when the report changes nothing', async () => {
    const { ctx, poll } = setup();
    await poll.sample();
    await poll.sample();
    expect(ctx.patches).toHaveLength(1);
  });

  it('samples only in the call, with a transport', async () => {
    const outside = setup('reconnecting');
    await outside.poll.sample();
    expect(outside.ctx.patches).toEqual([]);
    const bare = setup();
    bare.ctx.transport = null;
    await bare.poll.sample();
    expect(bare.ctx.patches).toEqual([]);
  });

  it('drops a report whose transport was replaced meanwhile', async () => {
    const { ctx, poll } = setup();
    const sampling = poll.sample();
    ctx.transport = fakeTransport({ own: 'poor', peers: {} });
    await sampling;
    expect(ctx.patches).toEqual([]);
  });
});
