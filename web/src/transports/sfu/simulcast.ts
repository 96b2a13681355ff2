// Simulcast publishing (docs/PROTOCOL.md, "Bandwidth and simulcast"): the camera goes out in
// up to three encodings with rids q (¼ resolution), h (½) and f (full), lowest first, and
// the server forwards each subscriber the one its downlink carries. On by default in sfu
// mode; `window.__roomtoneNoSimulcast = true` turns it off (tests comparing single-layer
// publishers).
//
// How many layers: Chromium encodes at most as many simulcast layers as the capture size
// allows (libwebrtc's table: 3 from 960x540, 2 from 480x270, 1 below) and drops the top
// encodings beyond that, so three encodings on a 640x480 camera would send only ¼ and ½ —
// no full-resolution layer at all. So the encodings are chosen from the capture size: h+f at
// 640x480 (the app's default capture: 320x240 and 640x480), q+h+f from 960x540, a single
// encoding below 480x270. Firefox gets the same plan.
//
// Bitrates: the lowest layer is what a weak downlink receives from everyone at once, so it
// is kept small: two remote videos at that layer plus two Opus streams fit 500 kbit/s with
// room for the estimate's swings.

export type Rid = 'q' | 'h' | 'f';

export interface LayerPlan {
  rid: Rid;
  scaleResolutionDownBy: number;
  maxBitrate: number;
}

/** Three layers (a capture of 960x540 or more). */
const THREE: LayerPlan[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 90_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/** Two layers (480x270 up to 960x540, e.g. 640x480): half and full resolution. */
const TWO: LayerPlan[] = [
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 100_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 700_000 },
];

/** How many simulcast layers a browser encodes for a capture of this size (libwebrtc's limit). */
export function layerCount(width: number, height: number): number {
  const pixels = width * height;
  if (pixels >= 960 * 540) return 3;
  if (pixels >= 480 * 270) return 2;
  return 1;
}

/** The layers to publish for a capture of this size; null: one plain encoding. */
export function layerPlan(width: number, height: number): LayerPlan[] | null {
  const count = layerCount(width, height);
  return count >= 3 ? THREE : count === 2 ? TWO : null;
}

/** sendEncodings for addTransceiver (null: no simulcast). */
export function simulcastEncodings(width: number, height: number): RTCRtpEncodingParameters[] | null {
  const plan = layerPlan(width, height);
  return plan ? plan.map((layer) => ({ ...layer, active: true })) : null;
}

export function simulcastDisabled(): boolean {
  return Boolean((window as unknown as { __roomtoneNoSimulcast?: boolean }).__roomtoneNoSimulcast);
}

/**
 * The encodings with `active` set from the server's `layers` message: the rids it lists,
 * and always the lowest, so a new subscriber (or one resuming from a pause) has something
 * to start on at once. Returns null when nothing changes.
 */
export function withActive(
  encodings: RTCRtpEncodingParameters[],
  active: readonly string[],
): RTCRtpEncodingParameters[] | null {
  let changed = false;
  const next = encodings.map((encoding, index) => {
    const on = index === 0 || (encoding.rid !== undefined && active.includes(encoding.rid));
    if ((encoding.active ?? true) === on) return encoding;
    changed = true;
    return { ...encoding, active: on };
  });
  return changed ? next : null;
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
