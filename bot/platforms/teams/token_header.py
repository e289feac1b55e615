"""A look at the bearer token's header before the SDK validates it.

The SDK reads the header's ``kid`` with ``header["kid"]``: a token without one raised
``KeyError`` (a 500, before authentication). Bot Framework tokens are always RS256 with a key
id, so anything else is refused here with the same 401 as any other bad token.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import jwt
from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_header_problem(authorization: str | None) -> str | None:
    """Why the bearer token's header cannot be a Bot Framework one; None to let the SDK decide."""
    if authorization is None:
        return None  # no token: the SDK answers 401 (or allows local development)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None  # the SDK refuses a malformed Authorization header itself
    try:
        header = jwt.get_unverified_header(token.strip())
    except (jwt.PyJWTError, ValueError, TypeError):
        return "unreadable token"
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return "token without a key id"
    if header.get("alg") != "RS256":
        return "token not signed with RS256"
    return None


def checked_token_header(handler: Handler) -> Handler:
    """``handler`` (the SDK's JWT check and what it guards), after the token header check."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        problem = token_header_problem(request.headers.get("Authorization"))
        if problem is not None:
            log.warning("teams token refused", extra={"reason": problem})
            return web.json_response(
                {"error": "Invalid token or authentication failed."}, status=401
            )
        return await handler(request)

    return guarded
