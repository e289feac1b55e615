"""A fake Bot Framework token service on 127.0.0.1: signs the JWTs the Bot Connector would send
with activities, and serves its public signing key (JWKS) over HTTP.

The Agents SDK fetches signing keys from the URL it maps a token's issuer to; ``point_sdk_here``
maps this fake's issuer to its own JWKS URL, so tokens are verified by the real SDK code (key
lookup over HTTP, RS256 signature, expiry, audience) and nothing else is replaced.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.test"  # a test-only issuer, so no real one is redirected
KEY_ID = "fake-signing-key-1"


class FakeTokenIssuer:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.jwks_url = f"http://127.0.0.1:{port}/keys"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def point_sdk_here(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from microsoft_agents.hosting.core.authorization import _entra_issuers

        monkeypatch.setitem(_entra_issuers.BOTFRAMEWORK_JWKS_URIS, ISSUER, self.jwks_url)

    async def _keys(self, _request: web.Request) -> web.Response:
        public = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return web.json_response({"keys": [{**public, "kid": KEY_ID, "use": "sig"}]})

    def token(self, audience: str, **claims: Any) -> str:
        """A signed activity token; pass ``serviceurl=…`` as the connector would."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": audience, "iat": now, "nbf": now, "exp": now + 600}
        body.update(claims)
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": KEY_ID})

    def token_with_header(self, header: dict[str, Any], audience: str, **claims: Any) -> str:
        """A token signed as usual but with exactly ``header`` (e.g. without a ``kid``)."""
        _, body, signature = self.token(audience, **claims).split(".")
        return f"{_b64(json.dumps(header).encode())}.{body}.{signature}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
