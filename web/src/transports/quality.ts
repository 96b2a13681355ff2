// Connection quality as the indicator shows it: good, fair or poor, or
// "reconnecting" while a link is down and being restored. The transports measure it (WebRTC statistics: loss and round-trip time; ws: the
// socket's send backlog) and report it per call and per remote participant;
// a participant's own report (`state.quality`) and, later, the SFU's view
// (`link-quality`) are folded in with `worse`.

import type { Quality } from '../protocol/messages';

export type { Quality } from '../protocol/messages';

/** A link as the indicator shows it (participants report only the Quality part). */
export type LinkState = Quality | 'reconnecting';

/** What a transport knows: our own link, and how each remote participant reaches us. */
export interface QualityReport {
  own: LinkState | null;
  peers: Record<string, LinkState>;
}

const RANK: Record<LinkState, number> = { good: 0, fair: 1, poor: 2, reconnecting: 3 };

export function worse(a: LinkState | null | undefined, b: LinkState | null | undefined): LinkState | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** Loss (0..1) and round-trip time → quality; thresholds of a call that still works. */
export function classifyLink(loss: number, rttMs: number | null): Quality {
  const rtt = rttMs ?? 0;
  if (loss < 0.02 && rtt < 400) return 'good';
  if (loss < 0.08 && rtt < 1000) return 'fair';
  return 'poor';
}

/** ws mode: bytes the socket has not sent yet (the recorder restarts above 1 MiB). */
export function classifyBacklog(bytes: number): Quality {
  if (bytes < 256 * 1024) return 'good';
  if (bytes < 1024 * 1024) return 'fair';
  return 'poor';
}

/** The counters of one RTCPeerConnection (or of some of its mids) that quality is judged by. */
export interface LinkCounters {
  packetsReceived: number;
  packetsLost: number;
  /** The far end's latest loss report for what we send (RTCP), 0..1. */
  remoteLoss: number | null;
  rttMs: number | null;
}

type Stat = Record<string, unknown>;

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Read LinkCounters from a getStats report; `mids` limits inbound counters to those m-lines. */
export function linkCounters(report: RTCStatsReport, mids?: Set<string>): LinkCounters {
  const out: LinkCounters = { packetsReceived: 0, packetsLost: 0, remoteLoss: null, rttMs: null };
  report.forEach((stat: Stat) => {
    if (stat.type === 'inbound-rtp') {
      if (mids && !(typeof stat.mid === 'string' && mids.has(stat.mid))) return;
      out.packetsReceived += num(stat.packetsReceived) ?? 0;
      out.packetsLost += Math.max(0, num(stat.packetsLost) ?? 0);
    } else if (stat.type === 'remote-inbound-rtp' && !mids) {
      const loss = num(stat.fractionLost);
      if (loss !== null) out.remoteLoss = Math.max(out.remoteLoss ?? 0, loss);
      const rtt = num(stat.roundTripTime);
      if (rtt !== null) out.rttMs = Math.max(out.rttMs ?? 0, rtt * 1000);
    } else if (stat.type === 'candidate-pair' && stat.nominated && stat.state === 'succeeded') {
      const rtt = num(stat.currentRoundTripTime);
      if (rtt !== null) out.rttMs = Math.max(out.rttMs ?? 0, rtt * 1000);
    }
  });
  return out;
}

/**
 * Judges one link from successive counters (loss since the previous sample).
 * A change shows once two samples in a row agree, so one burst of loss does
 * not flash "poor connection"; a dropped connection shows as "reconnecting"
 * at once (ICE is being restarted, or the SFU connection rebuilt).
 */
export class LinkMeter {
  private last: LinkCounters | null = null;
  private candidate: Quality | null = null;
  private shown: Quality | null = null;

  sample(counters: LinkCounters, connectionState: RTCPeerConnectionState): LinkState | null {
    const previous = this.last;
    this.last = counters;
    if (connectionState === 'disconnected' || connectionState === 'failed') return 'reconnecting';
    if (connectionState !== 'connected') return null;
    let loss = counters.remoteLoss ?? 0;
    if (previous) {
      const received = counters.packetsReceived - previous.packetsReceived;
      const lost = counters.packetsLost - previous.packetsLost;
      if (received + lost > 0) loss = Math.max(loss, lost / (received + lost));
    }
    const now = classifyLink(loss, counters.rttMs);
    if (this.shown === null || now === this.candidate) this.shown = now;
    this.candidate = now;
    return this.shown;
  }
}
