"""The aiohttp application: middlewares, routes, the room and its transport."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from roomtone import clientlogs, eventlog
from roomtone.auth import auth_middleware
from roomtone.config import ServerConfig
from roomtone.room import Room
from roomtone.security import security_headers, security_middleware
from roomtone.signaling import Signaling
from roomtone.transport import Transport
from roomtone.webclient import WebClient
from roomtone.webrtcrelay import WebRtcRelay
from roomtone.wsrelay import WsRelay

CONFIG_KEY = web.AppKey("config", ServerConfig)
SIGNALING_KEY = web.AppKey("signaling", Signaling)

#: Builds the room's transport; benches and tests pass their own to create_app/serve.
TransportFactory = Callable[[ServerConfig, Room], Transport]


def make_transport(config: ServerConfig, room: Room) -> Transport:
    """The one place that maps MEDIA_TRANSPORT to a transport class."""
    if config.media_transport == "webrtc":
        return WebRtcRelay(room)
    if config.media_transport == "sfu":
        # Imported here: aiortc and PyAV take a while to load and ws/webrtc never need them.
        from roomtone.sfu import SfuTransport

        return SfuTransport(room, config)
    return WsRelay(room, config)


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log without tokens or names from query strings."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path == "/health":
            return
        self.logger.info(
            '%s "%s %s" %s %.1fms',
            request.remote,
            request.method,
            eventlog.redact(request.path_qs),
            response.status,
            time * 1000,
        )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def participants(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIGNALING_KEY].room.roster())


async def client_config(request: web.Request) -> web.Response:
    """What the browser needs before joining (no secrets): the mode decides its checks."""
    config = request.app[CONFIG_KEY]
    return web.json_response(
        {
            "mediaTransport": config.media_transport,
            "maxParticipants": config.max_participants,
            # With auth on, the page's own address is no invitation: the client says so.
            "authEnabled": config.auth.enabled,
        }
    )


def create_app(
    config: ServerConfig, transport_factory: TransportFactory = make_transport
) -> web.Application:
    middlewares = [security_middleware(config)]
    if config.auth.enabled:
        middlewares.append(auth_middleware(config))
    app = web.Application(middlewares=middlewares, client_max_size=clientlogs.MAX_BODY_BYTES + 1)
    app[CONFIG_KEY] = config
    room = Room(config.max_participants)
    transport = transport_factory(config, room)
    signaling = Signaling(config, room, transport)
    app[SIGNALING_KEY] = signaling
    web_client = WebClient(config.web_root)

    app.router.add_get("/health", health)
    app.router.add_get("/participants", participants)
    app.router.add_get("/config", client_config)
    app.router.add_post("/logs", clientlogs.logs_handler(config))
    app.router.add_get("/ws", signaling.handle)
    app.router.add_route("*", "/{tail:.*}", web_client.handle)
    app.on_response_prepare.append(security_headers(config))

    async def on_shutdown(app: web.Application) -> None:
        await signaling.shutdown()
        await transport.close()

    app.on_shutdown.append(on_shutdown)
    logging.getLogger(__name__).debug("media transport: %s", transport.name)
    return app
