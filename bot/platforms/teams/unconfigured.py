"""``POST /api/messages`` on a server without Teams credentials: a plain 401 that says why.

Kept apart from ``app.py`` so that a server without Teams never imports the Agents SDK (about
a third of ``serve``'s start-up imports; docs/performance.md, "Cold start").
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("bot.platforms.teams.app")  # where operators have always seen it

ROUTE = "/api/messages"


async def refuse(_request: web.Request) -> web.Response:
    return web.json_response({"error": "Teams is not configured on this server."}, status=401)


def mount_refusal(app: web.Application) -> None:
    """Answer 401 "not configured", and say so loudly at start-up."""
    log.warning(
        "Teams is not configured (no MICROSOFT_APP_ID): %s answers 401 to every request", ROUTE
    )
    app.router.add_post(ROUTE, refuse)
