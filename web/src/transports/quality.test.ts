import { describe, expect, it } from 'vitest';
import { classifyBacklog, classifyLink, LinkMeter, linkCounters, worse } from './quality';

function report(stats: Record<string, unknown>[]): RTCStatsReport {
  return new Map(stats.map((s, i) => [String(i), s])) as unknown as RTCStatsReport;
}

describe('connection quality', () => {
  it('classifies loss and round-trip time', () => {
    expect(classifyLink(0, 50)).toBe('good');
    expect(classifyLink(0.05, 50)).toBe('fair');
    expect(classifyLink(0, 600)).toBe('fair');
    expect(classifyLink(0.2, 50)).toBe('poor');
    expect(classifyLink(0, 1500)).toBe('poor');
    expect(classifyBacklog(0)).toBe('good');
    expect(classifyBacklog(512 * 1024)).toBe('fair');
    expect(classifyBacklog(4 * 1024 * 1024)).toBe('poor');
  });

  it('takes the worse of two views; unknown yields to known', () => {
    expect(worse('good', 'poor')).toBe('poor');
    expect(worse('fair', null)).toBe('fair');
    expect(worse(undefined, null)).toBeNull();
    expect(worse('reconnecting', 'poor')).toBe('reconnecting');
  });

  it('reads counters from getStats, per mid when asked', () => {
    const stats = report([
      { type: 'inbound-rtp', mid: '1', packetsReceived: 90, packetsLost: 10 },
      { type: 'inbound-rtp', mid: '2', packetsReceived: 100, packetsLost: 0 },
      { type: 'remote-inbound-rtp', fractionLost: 0.03, roundTripTime: 0.12 },
      { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.2 },
    ]);
    expect(linkCounters(stats)).toEqual({ packetsReceived: 190, packetsLost: 10, remoteLoss: 0.03, rttMs: 200 });
    expect(linkCounters(stats, new Set(['1']))).toMatchObject({ packetsReceived: 90, packetsLost: 10, remoteLoss: null });
  });

  it('judges loss since the previous sample, a change once two samples agree', () => {
    const meter = new LinkMeter();
    const at = (received: number, lost: number) => ({ packetsReceived: received, packetsLost: lost, remoteLoss: null, rttMs: 40 });
    expect(meter.sample(at(1000, 500), 'connected')).toBe('good'); // old losses do not count
    expect(meter.sample(at(1100, 500), 'connected')).toBe('good');
    expect(meter.sample(at(1150, 550), 'connected')).toBe('good'); // one bad burst…
    expect(meter.sample(at(1250, 550), 'connected')).toBe('good');
    expect(meter.sample(at(1300, 600), 'connected')).toBe('good');
    expect(meter.sample(at(1350, 650), 'connected')).toBe('poor'); // …a second in a row shows
    expect(meter.sample(at(1450, 650), 'connected')).toBe('poor');
    expect(meter.sample(at(1550, 650), 'connected')).toBe('good');
  });

  it('shows a dropped connection as reconnecting at once', () => {
    const meter = new LinkMeter();
    const counters = { packetsReceived: 0, packetsLost: 0, remoteLoss: null, rttMs: null };
    expect(meter.sample(counters, 'disconnected')).toBe('reconnecting');
    expect(meter.sample(counters, 'new')).toBeNull();
  });
});
