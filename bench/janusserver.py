"""Janus (Debian's `janus` 1.1) as the benchmark's C reference SFU: config, interface, process.

The config folder is generated into a temp directory so nothing from
/etc/janus leaks in: only the VideoRoom plugin and the plain HTTP transport
(bound to 127.0.0.1) are loaded, by pointing the plugin and transport
folders at directories holding just those two libraries; no STUN, no event
handlers, no loggers. One room is declared in the plugin's config.

Janus (libnice) never gathers host candidates on a loopback interface, so the
network namespace (tests/isolated.sh) gets a 127.x/32 address on an `ifb`
device (this kernel has no `dummy`) and Janus is told to use only that
interface; packets to it still travel over loopback, like everyone else's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.serverproc import stop_process

LIBDIR = Path("/usr/lib/x86_64-linux-gnu/janus")
ROOM = 1234
INTERFACE = "ifb0"
ADDRESS = "127.0.0.3"  # on INTERFACE; any 127.x other than those tests/isolated.sh puts on lo

JANUS_JCFG = """\
general: {{
  configs_folder = "{folder}"
  plugins_folder = "{folder}/plugins"
  transports_folder = "{folder}/transports"
  events_folder = "{folder}/events"
  loggers_folder = "{folder}/loggers"
  debug_level = {debug}
  session_timeout = 60
  server_name = "roomtone-bench"
}}
certificates: {{
}}
media: {{
  no_media_timer = 5
}}
nat: {{
  nice_debug = false
  ignore_mdns = true
  ice_enforce_list = "{interface}"
}}
plugins: {{
}}
transports: {{
}}
loggers: {{
}}
events: {{
  broadcast = false
}}
"""

HTTP_JCFG = """\
general: {{
  json = "plain"
  base_path = "/janus"
  http = true
  port = {port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{
  admin_http = false
  admin_https = false
}}
"""

# bitrate = 0: no REMB cap sent to publishers (ours replay pre-encoded media anyway);
# fir_freq = 0: no periodic keyframe requests, keyframes only when a subscriber asks.
VIDEOROOM_JCFG = """\
general: {{
}}
room-{room}: {{
  description = "roomtone bench"
  publishers = 64
  bitrate = 0
  fir_freq = 0
  audiocodec = "opus"
  videocodec = "vp8"
  record = false
}}
"""


def installed() -> bool:
    return shutil.which("janus") is not None and (LIBDIR / "plugins/libjanus_videoroom.so").exists()


def write_config(folder: Path, port: int, debug: int = 3) -> Path:
    """Write janus.jcfg and the two module configs into `folder`; return janus.jcfg's path."""
    for sub, library in (("plugins", "libjanus_videoroom.so"), ("transports", "libjanus_http.so")):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        link = folder / sub / library
        if not link.exists():
            link.symlink_to(LIBDIR / sub / library)
    for sub in ("events", "loggers"):
        (folder / sub).mkdir(exist_ok=True)
    main = folder / "janus.jcfg"
    main.write_text(JANUS_JCFG.format(folder=folder, debug=debug, interface=INTERFACE))
    (folder / "janus.transport.http.jcfg").write_text(HTTP_JCFG.format(port=port))
    (folder / "janus.plugin.videoroom.jcfg").write_text(VIDEOROOM_JCFG.format(room=ROOM))
    return main


def ensure_interface() -> None:
    """Put ADDRESS on an ifb device, once per namespace; only inside tests/isolated.sh."""
    if os.environ.get("ROOMTONE_ISOLATED") != "1":
        raise RuntimeError("Janus runs only inside tests/isolated.sh's network namespace")
    shown = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True).stdout
    if f" {ADDRESS}/" in shown:
        return
    for command in (
        ["ip", "link", "add", INTERFACE, "type", "ifb"],
        ["ip", "addr", "add", f"{ADDRESS}/32", "dev", INTERFACE],
        ["ip", "link", "set", INTERFACE, "up"],
    ):
        subprocess.run(command, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class JanusProcess:
    proc: subprocess.Popen[bytes]
    url: str  # the HTTP API's base, e.g. http://127.0.0.1:PORT/janus
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)


@contextlib.contextmanager
def running_janus(debug: int = 3) -> Iterator[JanusProcess]:
    """A fresh Janus with its own generated config folder, stopped and removed afterwards."""
    ensure_interface()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="roomtone-janus-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, port, debug)
        log = folder / "janus.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["janus", "-F", str(folder), "-C", str(config), "-o"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        janus = JanusProcess(proc, f"http://127.0.0.1:{port}/janus", log)
        try:
            wait_http(proc, f"{janus.url}/info", log)
            yield janus
        finally:
            stop_process(proc)


def wait_http(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 90.0) -> None:
    """Wait for `url` to answer 200 while `proc` runs (a busy machine starts slowly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited at startup:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args} did not answer on {url}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""
