// Simulcast publishing, as far as the server's packet path needs a browser to prove it:
// three rid encodings of the camera (docs/PROTOCOL.md, "Bandwidth and simulcast").
// Off unless `window.__roomtoneSimulcast` is set (the browser tests do); publishing it by
// default, with the UI for the server's new messages, is the client's own step.

/** q: ¼ resolution, h: ½, f: full — lowest first, as the server expects. */
export const SIMULCAST_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

export function simulcastWanted(): boolean {
  return Boolean((window as unknown as { __roomtoneSimulcast?: boolean }).__roomtoneSimulcast);
}

export interface OutboundLayer {
  frameWidth: number;
  framesEncoded: number;
  bytesSent: number;
}

/**
 * Per rid (or "" without simulcast), what the camera's encodings are sending, and under
 * "uplink" the browser's own estimate of its uplink in bits/s (debug handle).
 */
export async function outboundLayers(
  pc: RTCPeerConnection,
): Promise<Record<string, OutboundLayer | number>> {
  const out: Record<string, OutboundLayer | number> = {};
  const report = await pc.getStats();
  report.forEach((stat: Record<string, unknown>) => {
    if (stat.type === 'candidate-pair' && stat.nominated && typeof stat.availableOutgoingBitrate === 'number') {
      out.uplink = stat.availableOutgoingBitrate;
    }
    if (stat.type !== 'outbound-rtp' || stat.kind !== 'video') return;
    const rid = typeof stat.rid === 'string' ? stat.rid : '';
    out[rid] = {
      frameWidth: typeof stat.frameWidth === 'number' ? stat.frameWidth : 0,
      framesEncoded: typeof stat.framesEncoded === 'number' ? stat.framesEncoded : 0,
      bytesSent: typeof stat.bytesSent === 'number' ? stat.bytesSent : 0,
    };
  });
  return out;
}
