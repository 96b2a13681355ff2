// The one place that maps a media mode to its transport module.

import type { MediaTransportKind } from '../protocol/messages';
import { SfuTransport } from './sfu';
import type { Transport, TransportHost } from './types';
import { WebRtcTransport } from './webrtc';
import { WsTransport } from './ws';

export function createTransport(kind: MediaTransportKind, host: TransportHost, selfId: string): Transport {
  switch (kind) {
    case 'webrtc':
      return new WebRtcTransport(host, selfId);
    case 'sfu':
      return new SfuTransport(host);
    case 'ws':
      return new WsTransport(host);
  }
}

export type { Transport, TransportDebug, TransportHost } from './types';
