// The one place that maps a media mode to its transport module.

import { SfuTransport } from './sfu';
import type { CreateTransport } from './types';
import { WebRtcTransport } from './webrtc';
import { WsTransport } from './ws';

export const createTransport: CreateTransport = (kind, host, selfId) => {
  switch (kind) {
    case 'webrtc':
      return new WebRtcTransport(host, selfId);
    case 'sfu':
      return new SfuTransport(host);
    case 'ws':
      return new WsTransport(host);
  }
};

export { PeerVideos } from './peerVideos';
export type { CreateTransport, RemoteVideos, Transport, TransportDebug, TransportHost } from './types';
