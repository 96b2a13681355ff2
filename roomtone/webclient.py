"""Serving the built browser client as a single-page app.

Hashed assets are cached for long; `index.html` is served for every other
path (the client routes itself) and never cached, so a new deployment is
picked up on reload. Without a build, a readable 503 page says how to make one.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

PACKAGED_ROOT = Path(__file__).resolve().parent / "static"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Roomtone: web client not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>The web client is not built</h1>
<p>The server is running, but it has no browser client to serve.</p>
<p>From a checkout, run <code>make run</code> (it builds the client), or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, or point
<code>WEB_ROOT</code> at a built client.</p>
</body></html>
"""


class WebClient:
    def __init__(self, root: Path | None) -> None:
        self.root = (root or PACKAGED_ROOT).resolve()

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def _file_for(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
        if not self.built:
            return web.Response(status=503, text=NOT_BUILT_PAGE, content_type="text/html")
        found = self._file_for(request.path)
        if found is None:
            response = web.FileResponse(self.root / "index.html")
            response.headers["Cache-Control"] = "no-cache"
            return response
        response = web.FileResponse(found)
        if found.parent.name == "assets":
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response
