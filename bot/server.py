"""The one aiohttp server: /healthz, and the routes of every platform in the registry.

Each platform mounts its own routes (:func:`bot.platforms.registry.add_routes`); this module
names none of them.
"""

from __future__ import annotations

import gc
import logging

from aiohttp import web

from bot.edge import MAX_BODY_BYTES
from bot.platforms import registry
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME_KEY = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    if await runtime.core.db.ping():
        return web.json_response({"ok": True, "database": "ok"})
    return web.json_response({"ok": False, "database": "unreachable"}, status=503)


def freeze_startup_heap() -> int:
    """Put everything built at start-up out of the garbage collector's reach; returns how many.

    The process's long-lived objects (ORM mappers, question sets, the platforms' clients,
    the routes) would otherwise be walked by every full collection, and on a busy server those
    walks were the slowest acknowledgements: a p99 of 100-120 ms instead of about 32 ms
    (docs/performance.md). Call once, when start-up is done.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def build_web_app(runtime: Runtime) -> web.Application:
    """Every HTTP route the process serves, for ``coregroup serve`` and the end-to-end tests."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    registry.add_routes(app, runtime)
    return app
