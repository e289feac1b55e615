"""A look at the bearer token's header before the SDK validates it.

The SDK reads the header's ``kid`` with ``header["kid"]``: a token without one raised
``KeyError`` (a 500, before authentication). Bot Framework tokens are always RS256 with a key
id, so anything else is refused here with the same 401 as any other bad token.
"""

from __future__ import annotations

import logging

import jwt

log = logging.getLogger(__name__)


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
