"""SFU_PORT_RANGE: which UDP ports ICE host candidates may bind.

A container publishes a fixed UDP range (`-p 40000-40099:40000-40099/udp`), so
every host candidate must bind inside it. The kernel is the source of truth
for what is free (a bind either succeeds or fails with EADDRINUSE), so nothing
here is reserved or released and nothing can leak: the range only says which
ports to try, starting after the last one handed out so a just-closed port is
not reused at once (stray packets of the old call would reach the new one).
"""

from __future__ import annotations

from collections.abc import Iterator


class PortRange:
    """Ports `low..high` inclusive, tried round-robin."""

    def __init__(self, low: int, high: int) -> None:
        if not 0 < low <= high <= 65535:
            raise ValueError(f"bad port range {low}-{high}")
        self.low = low
        self.high = high
        self._cursor = low

    def __len__(self) -> int:
        return self.high - self.low + 1

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.low <= port <= self.high

    def ports(self) -> Iterator[int]:
        """Every port once, starting at the cursor; the cursor moves past each one tried."""
        size = len(self)
        start = self._cursor - self.low
        for step in range(size):
            port = self.low + (start + step) % size
            self._cursor = self.low + (start + step + 1) % size
            yield port
