import type { CallState } from '../call/state';
import type { Strings } from '../lib/i18n';

/** The one-line status under the header. */
export function statusText(strings: Strings, state: CallState): string {
  switch (state.phase) {
    case 'idle':
      return '';
    case 'starting':
    case 'connecting':
      return state.reconnectIn !== null ? strings.reconnecting(state.reconnectIn) : strings.connecting;
    case 'reconnecting':
      return state.reconnectIn !== null ? strings.reconnecting(state.reconnectIn) : strings.connecting;
    case 'in-call': {
      const parts = [strings.connected(state.participants.length + 1)];
      if (!state.micOn && state.hasMic) parts.push(strings.micMuted);
      if (!state.camOn && state.hasCamera) parts.push(strings.cameraIsOff);
      if (state.quality && state.quality !== 'good') parts.push(strings.yourQuality[state.quality]);
      return parts.join(' ');
    }
  }
}
