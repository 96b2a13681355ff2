"""ws publishers restarting their recorders mid-call, driven from the test.

A ws publisher records anew when the server sends `media-keyframe` (and when
it switches camera or microphone); each time its viewers get `media-start`
and a new WebM stream. The test cannot make the server ask (it asks only
when someone waits for a keyframe), so an init script keeps the page's
WebSocket at hand and the test hands the client that very message, through
the socket's own `onmessage`: the client does exactly what it does for the
server's request. What viewers did with each new stream is read from the ws
transport's debug info (`rebuilds`: MediaSources started over; `splices`: new
streams continued on the running one).
"""

from __future__ import annotations

from typing import Any

# Before the app's scripts: remember every WebSocket the page opens.
KEEP_SOCKETS_JS = """
(() => {
  const Native = window.WebSocket;
  const sockets = [];
  window.__testSockets = sockets;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); sockets.push(this); }
  };
})();
"""

# The server's message, delivered to the open signaling socket's handler.
REQUEST_KEYFRAME_JS = """
() => {
  const ws = (window.__testSockets || []).filter((s) => s.readyState === 1).pop();
  if (!ws || !ws.onmessage) return false;
  ws.onmessage(new MessageEvent('message', { data: '{"type":"media-keyframe"}' }));
  return true;
}
"""

WS_DEBUG_JS = """
async () => {
  const debug = window.__roomtone ? await window.__roomtone.debug() : null;
  return debug && debug.kind === 'ws' ? debug : null;
}
"""


def restart_recorder(page: Any) -> None:
    """Make the page's ws publisher record anew, as on the server's `media-keyframe`."""
    if not page.evaluate(REQUEST_KEYFRAME_JS):
        raise AssertionError("no open signaling socket to hand `media-keyframe` to")


def ws_debug(page: Any) -> dict[str, Any]:
    debug = page.evaluate(WS_DEBUG_JS)
    if debug is None:
        raise AssertionError("the page has no ws transport")
    return debug


def recorder_restarts(page: Any) -> int:
    """How often this page's ws publisher recorded anew for `media-keyframe`."""
    return ws_debug(page)["keyframeRestarts"]


def viewer_tally(page: Any) -> dict[str, tuple[int, int]]:
    """Per remote peer: (rebuilds, splices) of this viewer's player."""
    peers = ws_debug(page)["peers"]
    return {peer: (p.get("rebuilds", 0), p.get("splices", 0)) for peer, p in peers.items()}


def ws_summary(page: Any) -> str:
    """What the page's ws transport did, for a failure message."""
    debug = ws_debug(page)
    peers = ", ".join(
        f"{peer[:4]}: {p.get('bytesAppended', 0)} B, {p.get('splices', 0)} splices, "
        f"{p.get('rebuilds', 0)} rebuilds"
        for peer, p in debug["peers"].items()
    )
    return (
        f"sent {debug['chunksSent']} chunks, {debug['keyframeRestarts']} keyframe restarts; {peers}"
    )
