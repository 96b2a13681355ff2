"""Is a remote stream really playing? A probe inside the page, read the same way in every browser.

`currentTime` can move without a single new picture (a seek to the live edge
jumps it forward), and decoded-frame counters can grow while nothing reaches
the screen. So the probe counts *presented* frames with
requestVideoFrameCallback (Chromium and Firefox both have it), notes the
wall-clock time of each, and counts seeks. A stream plays steadily when, over
the last seconds, new frames kept arriving: in almost every short slice of
time, with no long freeze. Audio is proven by the sound itself: each remote
<video> also feeds a WebAudio analyser (Firefox has no
`webkitAudioDecodedByteCount`), whose running level must be above silence.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

# Installed once per page (idempotent; survives React re-rendering the tiles).
INSTALL_PROBE_JS = """
() => {
  if (window.__playProbe) return true;
  const probe = { videos: new Map(), ctx: null };
  window.__playProbe = probe;
  const KEEP_MS = 15000;
  const watch = (v) => {
    const entry = { frames: [], seeks: [], level: 0, levelAt: 0, analyser: null, buf: null };
    probe.videos.set(v, entry);
    const onFrame = (now, meta) => {
      entry.frames.push([performance.now(), meta.mediaTime, meta.presentedFrames]);
      const cut = performance.now() - KEEP_MS;
      while (entry.frames.length && entry.frames[0][0] < cut) entry.frames.shift();
      if (probe.videos.get(v) === entry) v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    v.addEventListener('seeking', () => entry.seeks.push(performance.now()));
  };
  // The element's own sound: a MediaStream (webrtc, sfu) is tapped without touching
  // the element; an MSE element (ws) is routed through the analyser to the speakers.
  const tapAudio = (v, entry) => {
    const stream = v.srcObject;
    if (entry.analyser && entry.stream === stream) return;
    try {
      probe.ctx = probe.ctx || new AudioContext();
      let source;
      if (stream instanceof MediaStream) {
        if (!stream.getAudioTracks().length) return;
        source = probe.ctx.createMediaStreamSource(stream);
      } else if (!entry.elementSource) {
        source = entry.elementSource = probe.ctx.createMediaElementSource(v);
      } else {
        return;
      }
      const analyser = probe.ctx.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      if (!(stream instanceof MediaStream)) analyser.connect(probe.ctx.destination);
      entry.stream = stream;
      entry.analyser = analyser;
      entry.buf = new Float32Array(analyser.fftSize);
    } catch (e) {
      entry.audioError = String(e);
    }
  };
  const scan = () => {
    for (const v of document.querySelectorAll('[data-testid="remote-video"]')) {
      if (!probe.videos.has(v)) watch(v);
      tapAudio(v, probe.videos.get(v));
    }
    if (probe.ctx && probe.ctx.state === 'suspended') probe.ctx.resume();
    for (const entry of probe.videos.values()) {
      if (!entry.analyser) continue;
      entry.analyser.getFloatTimeDomainData(entry.buf);
      let peak = 0;
      for (const x of entry.buf) peak = Math.max(peak, Math.abs(x));
      if (peak > 0.001) entry.levelAt = performance.now();
      entry.level = Math.max(entry.level * 0.9, peak);
    }
  };
  setInterval(scan, 50);
  scan();
  return true;
}
"""

# Per remote peer: frame times (ms ago), seeks, audio state, over the last `windowMs`.
READ_PROBE_JS = """
(windowMs) => {
  const probe = window.__playProbe;
  if (!probe) return null;
  const now = performance.now();
  const out = {};
  for (const [v, entry] of probe.videos) {
    if (!v.isConnected) continue;
    const from = now - windowMs;
    out[v.dataset.peerId] = {
      width: v.videoWidth,
      frameAges: entry.frames.filter((f) => f[0] >= from).map((f) => now - f[0]),
      mediaTimes: entry.frames.filter((f) => f[0] >= from).map((f) => f[1]),
      seeks: entry.seeks.filter((t) => t >= from).length,
      audioAgeMs: entry.levelAt ? now - entry.levelAt : null,
      audioState: probe.ctx ? probe.ctx.state : 'none',
      audioError: entry.audioError || null,
    };
  }
  return out;
}
"""


@dataclass(frozen=True)
class Playback:
    """What one remote stream did over the last `window_s` seconds."""

    width: int
    frames: int
    window_s: float
    busy_slices: int  # slices of SLICE_S with at least one new frame
    slices: int
    longest_freeze_s: float
    seeks: int
    audio_age_s: float | None  # since sound was last heard; None: never
    audio_state: str

    SLICE_S = 0.5

    @property
    def fps(self) -> float:
        return self.frames / self.window_s

    def steady(self) -> bool:
        """Frames in nearly every half second and no freeze over a second, no seek storm.

        Deliberately loose about speed (a loaded 2-core machine decodes three
        streams slowly), strict about shape: the failure this catches is video
        that moves a fraction of the time and jumps between stills.
        """
        return (
            self.width > 0
            and self.busy_slices >= self.slices - 1
            and self.longest_freeze_s <= 1.0
            and self.seeks <= 1
        )

    def hears(self) -> bool:
        return self.audio_age_s is not None and self.audio_age_s < 1.5

    @classmethod
    def from_probe(cls, data: dict[str, Any], window_s: float) -> Playback:
        ages = sorted(a / 1000 for a in data["frameAges"])
        slices = int(window_s / cls.SLICE_S)
        busy = {int(a / cls.SLICE_S) for a in ages if a < slices * cls.SLICE_S}
        edges = [0.0, *ages, window_s]
        freeze = max(b - a for a, b in itertools.pairwise(edges))
        age = data["audioAgeMs"]
        return cls(
            width=data["width"],
            frames=len(ages),
            window_s=window_s,
            busy_slices=len(busy),
            slices=slices,
            longest_freeze_s=round(freeze, 2),
            seeks=data["seeks"],
            audio_age_s=None if age is None else round(age / 1000, 2),
            audio_state=data["audioState"],
        )


def install_probe(page: Any) -> None:
    page.evaluate(INSTALL_PROBE_JS)


def read_playback(page: Any, window_s: float = 4.0) -> dict[str, Playback]:
    data = page.evaluate(READ_PROBE_JS, int(window_s * 1000)) or {}
    return {peer: Playback.from_probe(d, window_s) for peer, d in data.items()}
