// Media measurements from inside a Roomtone page, installed by tests/e2e/mediaprobe.py
// with context.add_init_script (before the page's own scripts run). Standard APIs only:
// - every RTCPeerConnection the page creates is remembered (for getStats);
// - every remote <video> is sampled each 0.5 s: frames painted (requestVideoFrameCallback),
//   frames decoded (getVideoPlaybackQuality), currentTime, size, audio bytes decoded.
(() => {
  if (window.__roomtoneProbe) return;
  const SAMPLE_MS = 500;
  const KEEP_SAMPLES = 2400; // 20 minutes

  const pcs = [];
  const NativePeerConnection = window.RTCPeerConnection;
  if (NativePeerConnection) {
    window.RTCPeerConnection = class extends NativePeerConnection {
      constructor(...args) {
        super(...args);
        pcs.push(this);
      }
    };
  }

  // Painted frames per <video>, kept across source changes (presentedFrames restarts).
  const painted = new WeakMap();
  function watch(video) {
    if (painted.has(video) || !video.requestVideoFrameCallback) return;
    const state = { frames: 0, last: 0 };
    painted.set(video, state);
    const onFrame = (_now, meta) => {
      const n = meta.presentedFrames;
      state.frames += n > state.last ? n - state.last : 1;
      state.last = n;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  function remoteVideos() {
    const out = {};
    document.querySelectorAll('video[data-testid="remote-video"]').forEach((v) => {
      watch(v);
      const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
      const state = painted.get(v);
      out[v.dataset.peerId] = {
        painted: state ? state.frames : null,
        decoded: q ? q.totalVideoFrames : 0,
        time: v.currentTime,
        width: v.videoWidth,
        height: v.videoHeight,
        audioBytes: v.webkitAudioDecodedByteCount || 0,
        tracks: v.srcObject ? v.srcObject.getTracks().map((t) => t.id) : [],
      };
    });
    return out;
  }

  const samples = [];
  setInterval(() => {
    samples.push({ t: performance.now(), videos: remoteVideos() });
    if (samples.length > KEEP_SAMPLES) samples.shift();
  }, SAMPLE_MS);

  const INBOUND = ['kind', 'trackIdentifier', 'packetsReceived', 'packetsLost', 'bytesReceived',
    'concealedSamples', 'silentConcealedSamples', 'totalSamplesReceived', 'concealmentEvents',
    'framesDecoded', 'framesReceived', 'framesDropped', 'frameWidth', 'frameHeight',
    'freezeCount', 'totalFreezesDuration', 'nackCount', 'pliCount'];
  const OUTBOUND = ['kind', 'rid', 'bytesSent', 'packetsSent', 'framesEncoded', 'framesSent',
    'frameWidth', 'frameHeight', 'framesPerSecond', 'targetBitrate', 'qualityLimitationReason'];
  const pick = (stat, keys) => Object.fromEntries(keys.filter((k) => k in stat).map((k) => [k, stat[k]]));
  const endpoint = (c) => c && { address: c.address || c.ip, port: c.port, protocol: c.protocol };

  async function rtc() {
    const inbound = [];
    const outbound = [];
    const local = [];
    const selected = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      const byId = new Map();
      report.forEach((s) => byId.set(s.id, s));
      report.forEach((s) => {
        if (s.type === 'inbound-rtp') inbound.push(pick(s, INBOUND));
        else if (s.type === 'outbound-rtp') outbound.push({ id: s.id, ...pick(s, OUTBOUND) });
        else if (s.type === 'local-candidate') local.push(endpoint(s));
        else if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          if (pair) {
            selected.push({ local: endpoint(byId.get(pair.localCandidateId)), remote: endpoint(byId.get(pair.remoteCandidateId)) });
          }
        }
      });
    }
    return { inbound, outbound, localCandidates: local, selectedPairs: selected };
  }

  window.__roomtoneProbe = {
    /** Everything measured now; `debug` is the app's own window.__roomtone.debug(). */
    async snapshot() {
      const handle = window.__roomtone;
      const local = document.querySelector('[data-testid="local-video"]');
      const localTrack = local && local.srcObject ? local.srcObject.getVideoTracks()[0] : null;
      return {
        t: performance.now(),
        selfId: handle ? handle.state().selfId : null,
        videos: remoteVideos(),
        rtc: await rtc(),
        debug: handle ? await handle.debug() : null,
        capture: localTrack ? localTrack.getSettings() : null,
      };
    },
    samplesBetween(from, to) {
      return samples.filter((s) => s.t >= from && s.t <= to);
    },
  };
})();
