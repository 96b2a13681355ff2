"""Network conditions on loopback: cut one participant's downlink or uplink to a rate with loss.

For tests and benches inside `tests/isolated.sh` (a private network namespace
with only `lo`). This kernel has no `netem`, so the pieces are:

- **rate and queue**: an HTB root on `lo` only classifies (`default 0`: any
  packet no filter claims bypasses shaping); each shaped path gets an HTB
  class picked by `u32` filters and a TBF leaf that sets the rate and the
  queue (a full queue drops, like a real bottleneck). TBF also cuts GSO
  super-packets into MTU-sized ones, and `lo`'s MTU is lowered to 1500 while
  the shaper is open, so TCP sees link-sized segments instead of 64 KiB ones.
- **loss**: an nftables rule in the *input* hook with `numgen random`, so
  packets are lost after the bottleneck, as on a real link, and the sender
  never gets an error back from `sendto()` (an output-hook drop would).

On loopback every packet leaves through `lo`'s egress, so direction is only a
matter of addresses. A participant's :class:`Link` names its own sockets
(`own`) and/or the far ends that serve only it (`far`): its **downlink** is
every packet *to* an own endpoint or *from* a far endpoint; its **uplink** is
every packet *from* an own endpoint or *to* a far endpoint. Per media mode:

- `sfu`: far = the server's address and port in the participant's selected
  ICE candidate pair (each participant has its own server-side socket);
- `webrtc` mesh: own = the participant's local ICE candidates (address and
  port: a port number may be bound on 127.0.0.1 by one browser and on
  127.0.0.2 by another);
- `ws`: far = a second loopback address the participant loads the page from
  (e.g. 127.0.0.3) with the server's port; the server listens on 0.0.0.0.

IPv4 only (every candidate in the namespace is). Loss is independent per
packet (no bursts); the queue defaults to 200 ms at the link rate.

Everything is undone on :meth:`LoopbackShaper.close` (and at the start of the
next one, should a run have been killed). It refuses to touch a `lo` outside
an isolated namespace, where it would shape the whole machine's loopback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from enum import Enum
from typing import Literal

Protocol = Literal["udp", "tcp"]

DEVICE = "lo"
NFT_TABLE = "roomtone_netshape"
LINK_MTU = 1500
# Largest frame on lo at LINK_MTU (lo has a 14-byte Ethernet-style header).
MAX_FRAME = LINK_MTU + 14
_PROTOCOL_NUMBERS: dict[str, int] = {"udp": 17, "tcp": 6}
_FIRST_CLASS = 0x10


class Direction(Enum):
    DOWN = "down"  # packets to the participant
    UP = "up"  # packets from the participant


@dataclass(frozen=True)
class Endpoint:
    """An IPv4 address, optionally narrowed to one port and one protocol."""

    address: str
    port: int | None = None
    protocol: Protocol | None = None

    def __post_init__(self) -> None:
        ipaddress.IPv4Address(self.address)  # raises on anything else
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"bad port {self.port}")
        if self.protocol is not None and self.protocol not in _PROTOCOL_NUMBERS:
            raise ValueError(f"bad protocol {self.protocol!r}")


@dataclass(frozen=True)
class Link:
    """One participant's traffic: its own sockets and/or the far ends that serve only it."""

    own: tuple[Endpoint, ...] = ()
    far: tuple[Endpoint, ...] = ()

    def __post_init__(self) -> None:
        if not self.own and not self.far:
            raise ValueError("a Link needs at least one endpoint")

    def matches(self, direction: Direction) -> list[tuple[Literal["src", "dst"], Endpoint]]:
        """Which packet side must equal which endpoint for a packet to be in `direction`."""
        own_side: Literal["src", "dst"] = "dst" if direction is Direction.DOWN else "src"
        far_side: Literal["src", "dst"] = "src" if direction is Direction.DOWN else "dst"
        return [(own_side, e) for e in self.own] + [(far_side, e) for e in self.far]


@dataclass(frozen=True)
class Conditions:
    """A link's capacity: rate, random loss (0..1) after the bottleneck, queue length."""

    rate_kbit: float
    loss: float = 0.0
    queue_ms: float = 200.0

    def __post_init__(self) -> None:
        if self.rate_kbit <= 0:
            raise ValueError("rate_kbit must be positive")
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("loss is a share in [0, 1)")
        if self.queue_ms <= 0:
            raise ValueError("queue_ms must be positive")

    @property
    def burst_bytes(self) -> int:
        # At least two full frames, else TBF drops (or cannot pass) a full-size packet.
        return max(2 * MAX_FRAME, int(self.rate_kbit * 1000 / 8 * 0.005))

    @property
    def queue_bytes(self) -> int:
        return max(4 * MAX_FRAME, int(self.rate_kbit * 1000 / 8 * self.queue_ms / 1000))

    @property
    def loss_per_10000(self) -> int:
        return round(self.loss * 10000)


@dataclass(frozen=True)
class PathStats:
    """What a shaped path did so far: sent through the shaper, dropped by queue or loss."""

    sent_packets: int
    sent_bytes: int
    queue_drops: int
    loss_drops: int


@dataclass
class _Path:
    number: int
    conditions: Conditions
    loss_drops_before: int = 0  # nft counters restart when the table is rewritten


def u32_filter(number: int, side: Literal["src", "dst"], endpoint: Endpoint) -> list[str]:
    """`tc filter` arguments sending packets whose `side` is `endpoint` to class 1:`number`."""
    args = ["tc", "filter", "add", "dev", DEVICE, "parent", "1:", "protocol", "ip"]
    args += ["prio", str(number), "u32", "match", "ip", side, f"{endpoint.address}/32"]
    if endpoint.protocol is not None:
        args += ["match", "ip", "protocol", str(_PROTOCOL_NUMBERS[endpoint.protocol]), "0xff"]
    if endpoint.port is not None:
        # u32 reads the port at a fixed offset: IP headers without options (ours).
        args += ["match", "ip", "sport" if side == "src" else "dport", str(endpoint.port), "0xffff"]
    return [*args, "flowid", f"1:{number:x}"]


def nft_loss_rule(
    number: int, side: Literal["src", "dst"], endpoint: Endpoint, per_10000: int
) -> str:
    """An nftables rule dropping `per_10000` in 10000 packets whose `side` is `endpoint`."""
    parts = [f"ip {'saddr' if side == 'src' else 'daddr'} {endpoint.address}"]
    if endpoint.port is not None:
        protocol = endpoint.protocol or "{ tcp, udp }"
        parts.append(
            f"meta l4proto {protocol} th {'sport' if side == 'src' else 'dport'} {endpoint.port}"
        )
    elif endpoint.protocol is not None:
        parts.append(f"meta l4proto {endpoint.protocol}")
    parts.append(f'numgen random mod 10000 < {per_10000} counter drop comment "path {number}"')
    return " ".join(parts)


def in_isolated_namespace() -> bool:
    return os.environ.get("ROOMTONE_ISOLATED") == "1"


class LoopbackShaper:
    """Shapes paths on `lo`; use as a context manager, one per namespace at a time::

        with LoopbackShaper() as net:
            net.limit(link, Direction.DOWN, Conditions(rate_kbit=500, loss=0.02))
            net.limit(link, Direction.DOWN, Conditions(rate_kbit=150, loss=0.02))  # change
            net.lift(link, Direction.DOWN)

    Open it before the participants connect: connections made at `lo`'s usual
    64 KiB MTU keep their large segments until path-MTU discovery shrinks them.
    """

    def __init__(self, *, mtu: int | None = LINK_MTU, allow_host: bool = False) -> None:
        if not (allow_host or in_isolated_namespace()):
            raise RuntimeError(
                "LoopbackShaper shapes `lo` of the whole network namespace: run it inside "
                "tests/isolated.sh (ROOMTONE_ISOLATED=1)"
            )
        self._mtu = mtu
        self._old_mtu: int | None = None
        self._paths: dict[tuple[Link, Direction], _Path] = {}
        self._next = _FIRST_CLASS
        self._open = False

    def __enter__(self) -> LoopbackShaper:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Put the classifying HTB root on `lo` (replacing any leftover) and lower the MTU."""
        missing = [tool for tool in ("tc", "nft", "ip") if not _which(tool)]
        if missing:
            raise RuntimeError(
                f"tests/netshape.py needs {', '.join(missing)} (Debian: iproute2, nftables; "
                "`make browser` installs them)"
            )
        self._reset()
        _tc(f"qdisc add dev {DEVICE} root handle 1: htb default 0")  # unclassified: unshaped
        self._write_nft()
        if self._mtu is not None:
            self._old_mtu = _mtu()
            _run(["ip", "link", "set", DEVICE, "mtu", str(self._mtu)])
        self._open = True

    def close(self) -> None:
        """Remove every shaped path, the root qdisc and the nftables table; restore the MTU."""
        if not self._open:
            return
        self._open = False
        self._paths.clear()
        self._reset()
        if self._old_mtu is not None:
            _run(["ip", "link", "set", DEVICE, "mtu", str(self._old_mtu)])

    def limit(self, link: Link, direction: Direction, conditions: Conditions) -> None:
        """Shape `link`'s `direction` to `conditions`, or change the conditions it has."""
        self._require_open()
        key = (link, direction)
        path = self._paths.get(key)
        if path is None:
            path = _Path(self._next, conditions)
            self._next += 1
            n = path.number
            # The class only classifies; its TBF leaf sets the rate and the queue.
            _tc(f"class add dev {DEVICE} parent 1: classid 1:{n:x} htb rate 10gbit quantum 60000")
            _tc(f"qdisc add dev {DEVICE} parent 1:{n:x} handle {n:x}: {_tbf(conditions)}")
            for side, endpoint in link.matches(direction):
                _run(u32_filter(n, side, endpoint))
            self._paths[key] = path
        else:
            path.conditions = conditions
            n = path.number
            _tc(f"qdisc change dev {DEVICE} parent 1:{n:x} handle {n:x}: {_tbf(conditions)}")
        self._write_nft()

    def lift(self, link: Link, direction: Direction | None = None) -> None:
        """Give `link` (one direction, or both) its full speed and no loss again."""
        self._require_open()
        for d in list(Direction) if direction is None else [direction]:
            path = self._paths.pop((link, d), None)
            if path is None:
                continue
            n = path.number
            _tc(f"filter del dev {DEVICE} parent 1: prio {n}")
            _tc(f"class del dev {DEVICE} classid 1:{n:x}")
        self._write_nft()

    def lift_all(self) -> None:
        for link, direction in list(self._paths):
            self.lift(link, direction)

    def stats(self, link: Link, direction: Direction) -> PathStats:
        """Counters of a shaped path since it was first limited."""
        path = self._paths.get((link, direction))
        if path is None:
            raise KeyError(f"{direction.value}link of {link} is not shaped")
        qdiscs = json.loads(_run(["tc", "-s", "-j", "qdisc", "show", "dev", DEVICE]))
        tbf = next(q for q in qdiscs if q.get("handle") == f"{path.number:x}:")
        return PathStats(
            sent_packets=int(tbf.get("packets", 0)),
            sent_bytes=int(tbf.get("bytes", 0)),
            queue_drops=int(tbf.get("drops", 0)),
            loss_drops=path.loss_drops_before + _loss_counters().get(path.number, 0),
        )

    def _write_nft(self) -> None:
        """Rewrite the loss table in one nft transaction, carrying the drop counts over."""
        if self._paths:
            counted = _loss_counters()
            for path in self._paths.values():
                path.loss_drops_before += counted.get(path.number, 0)
        rules = [
            nft_loss_rule(p.number, side, endpoint, p.conditions.loss_per_10000)
            for (link, direction), p in self._paths.items()
            if p.conditions.loss_per_10000 > 0
            for side, endpoint in link.matches(direction)
        ]
        body = "\n".join(f"    {r}" for r in rules)
        script = (
            f"table inet {NFT_TABLE} {{}}\n"
            f"delete table inet {NFT_TABLE}\n"
            f"table inet {NFT_TABLE} {{\n  chain input {{\n"
            f"    type filter hook input priority filter; policy accept;\n{body}\n  }}\n}}\n"
        )
        _run(["nft", "-f", "-"], stdin=script)

    def _reset(self) -> None:
        for args in (
            ["tc", "qdisc", "del", "dev", DEVICE, "root"],
            ["nft", "delete", "table", "inet", NFT_TABLE],
        ):
            _run(args, check=False)  # nothing to delete is fine

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("LoopbackShaper is not open")


def _loss_counters() -> dict[int, int]:
    """Packets dropped so far by each path's loss rules, from the rules' comments."""
    listing = json.loads(_run(["nft", "-j", "list", "table", "inet", NFT_TABLE]))
    drops: dict[int, int] = {}
    for item in listing.get("nftables", []):
        rule = item.get("rule")
        comment = rule.get("comment", "") if rule else ""
        if not comment.startswith("path "):
            continue
        number = int(comment.removeprefix("path "))
        for expr in rule.get("expr", []):
            if "counter" in expr:
                drops[number] = drops.get(number, 0) + int(expr["counter"].get("packets", 0))
    return drops


def _tbf(c: Conditions) -> str:
    return f"tbf rate {c.rate_kbit:g}kbit burst {c.burst_bytes} limit {c.queue_bytes}"


def _tc(command: str) -> str:
    return _run(["tc", *command.split()])


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


def _mtu() -> int:
    info = json.loads(_run(["ip", "-j", "link", "show", DEVICE]))
    return int(info[0]["mtu"])


def _run(args: list[str], stdin: str | None = None, check: bool = True) -> str:
    tool = _which(args[0]) or args[0]
    done = subprocess.run([tool, *args[1:]], input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout
