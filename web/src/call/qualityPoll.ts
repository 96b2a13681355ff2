// The connection-quality indicator's refresh: every QUALITY_EVERY_MS, the
// transport's report (our link and each participant's) folded into the call
// state. Apart from session.ts because it runs on its own timer and only reads
// the state and patches it; a report that arrives after its transport was
// replaced, or that changes nothing, is dropped.

import type { Transport } from '../transports/types';
import { withReceived } from './presence';
import type { CallState } from './state';

/** How often the connection-quality indicator is refreshed. */
export const QUALITY_EVERY_MS = 2000;

export interface QualityHost {
  transport(): Transport | null;
  state(): CallState;
  /** Quality or participants' received links changed (only while in the call). */
  changed(patch: Pick<CallState, 'quality' | 'participants'>): void;
}

export class QualityPoll {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly host: QualityHost) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.sample(), QUALITY_EVERY_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async sample(): Promise<void> {
    const transport = this.host.transport();
    if (!transport || this.host.state().phase !== 'in-call') return;
    const report = await transport.quality();
    if (transport !== this.host.transport()) return; // replaced meanwhile
    const state = this.host.state();
    const participants = withReceived(state.participants, report.peers);
    if (report.own === state.quality && participants === state.participants) return;
    this.host.changed({ quality: report.own, participants });
  }
}
