"""Running the server process: listen, wait for SIGTERM/SIGINT, shut down in time.

On a signal every socket is closed with 1001 (clients reconnect to the next
instance) and the process exits within a few seconds, as container
orchestrators expect.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from roomtone import eventlog
from roomtone.app import RedactingAccessLogger, TransportFactory, create_app, make_transport
from roomtone.config import ServerConfig

SHUTDOWN_TIMEOUT_SECONDS = 3.0

log = logging.getLogger("roomtone")


async def serve(config: ServerConfig, transport_factory: TransportFactory = make_transport) -> None:
    app = create_app(config, transport_factory)
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log=logging.getLogger("roomtone.access"),
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await site.start()
    eventlog.emit(
        "server_started",
        host=config.host,
        port=config.port,
        mediaTransport=config.media_transport,
        auth=config.auth.enabled,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down")
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=SHUTDOWN_TIMEOUT_SECONDS + 1)
    except TimeoutError:
        log.warning("shutdown took too long; exiting anyway")
    eventlog.emit("server_stopped")
