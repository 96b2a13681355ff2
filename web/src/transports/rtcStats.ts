// Reading inbound media counters from getStats (used by the debug handle).

export interface InboundCounts {
  audioPacketsReceived: number;
  videoFramesDecoded: number;
}

/** Sum inbound-rtp counters, optionally only for the given mids. */
export async function inboundCounts(pc: RTCPeerConnection, mids?: Set<string>): Promise<InboundCounts> {
  const out: InboundCounts = { audioPacketsReceived: 0, videoFramesDecoded: 0 };
  const report = await pc.getStats();
  report.forEach((stat: Record<string, unknown>) => {
    if (stat.type !== 'inbound-rtp') return;
    if (mids && !(typeof stat.mid === 'string' && mids.has(stat.mid))) return;
    if (stat.kind === 'audio' && typeof stat.packetsReceived === 'number') {
      out.audioPacketsReceived += stat.packetsReceived;
    }
    if (stat.kind === 'video' && typeof stat.framesDecoded === 'number') {
      out.videoFramesDecoded += stat.framesDecoded;
    }
  });
  return out;
}
