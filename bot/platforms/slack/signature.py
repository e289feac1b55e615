"""Slack's request signature, checked on the raw bytes before anything decodes them.

The SDK's verifier decodes the body and converts the timestamp itself, so a body that is not
UTF-8, a timestamp like ``abc`` or a signature with non-ASCII characters raised instead of
being refused (a 500 before authentication). Here anything but a well-formed, fresh, matching
signature is simply not verified: 401.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# Slack refuses to let a signed request be replayed later than this (their documented rule).
MAX_AGE_SECONDS = 5 * 60

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``v0=`` signature Slack sends for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verified(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> bool:
    """Whether Slack signed exactly this body, recently, with our signing secret."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
