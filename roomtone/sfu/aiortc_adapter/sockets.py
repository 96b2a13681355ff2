"""Local UDP ports: binding aioice's host candidates inside SFU_PORT_RANGE.

Part of the aiortc adapter: see the package docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from roomtone.sfu.aiortc_adapter.names import PORT_HOOKED

# aioice 0.13 `Connection.get_component_candidates` binds each host candidate
# with `loop.create_datagram_endpoint(factory, local_addr=(address, 0))`. There
# is no option to choose the port, so while a port scope is active (a context
# variable, i.e. only inside the SFU's own gathering), the running loop's
# `create_datagram_endpoint` binds such requests to a port from the scope.


class PortSource(Protocol):
    def ports(self) -> Iterator[int]: ...


class PortScope:
    """One gathering: where ports come from, and whether the range ran out."""

    def __init__(self, source: PortSource) -> None:
        self.source = source
        self.exhausted = False


_port_scope: contextvars.ContextVar[PortScope | None] = contextvars.ContextVar(
    "roomtone_sfu_port_scope", default=None
)


def _install_port_hook(loop: asyncio.AbstractEventLoop) -> None:
    if getattr(loop, PORT_HOOKED, False):
        return
    original = loop.create_datagram_endpoint

    async def create_datagram_endpoint(
        protocol_factory: Callable[[], Any], *args: Any, **kwargs: Any
    ) -> Any:
        scope = _port_scope.get()
        local_addr = kwargs.get("local_addr")
        if scope is None or args or not local_addr or local_addr[1] != 0:
            return await original(protocol_factory, *args, **kwargs)
        for port in scope.source.ports():
            kwargs["local_addr"] = (local_addr[0], port)
            try:
                return await original(protocol_factory, **kwargs)
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
        scope.exhausted = True
        raise OSError(errno.EADDRINUSE, "no free UDP port in SFU_PORT_RANGE")

    loop.create_datagram_endpoint = create_datagram_endpoint  # type: ignore[method-assign]
    setattr(loop, PORT_HOOKED, True)


@contextlib.contextmanager
def ports_from(source: PortSource | None) -> Iterator[PortScope | None]:
    """Within this block, ICE host candidates bind to ports from `source` (None: OS picks)."""
    if source is None:
        yield None
        return
    _install_port_hook(asyncio.get_running_loop())
    scope = PortScope(source)
    token = _port_scope.set(scope)
    try:
        yield scope
    finally:
        _port_scope.reset(token)
