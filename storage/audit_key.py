"""The secret that keys the audit log's hash chain (``COREGROUP_AUDIT_KEY``): HMAC-SHA256.

A plain hash chain can be recomputed by anyone who edits the database; an HMAC chain only by
someone who also holds the key, which lives in the environment, not the database. Each row
names how it was hashed (``hash_alg``):

- ``hmac-sha256:<key id>``: keyed. The key id is derived from the key (it reveals nothing of
  it), so several comma-separated keys allow rotation: the first signs, every one verifies.
- ``hmac-sha256:dev``: keyed with :data:`DEVELOPMENT_KEY`, a published, non-secret key used in
  development and tests when no key is set. It proves nothing; production refuses to start
  without a real key, and rows signed with it verify only while no real key is set.
- ``sha256``: unkeyed rows written before keying existed (migration 0003).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from storage.errors import StorageError

LEGACY_ALG = "sha256"
HMAC_PREFIX = "hmac-sha256:"
DEVELOPMENT_KEY = "coregroup-development-audit-key-NOT-SECRET"
DEVELOPMENT_KEY_ID = "dev"
MIN_KEY_CHARS = 32


@dataclass(frozen=True)
class _Keys:
    signing: tuple[str, bytes] | None  # (key id, key) that signs new rows
    verifying: dict[str, bytes]


def key_id(key: str) -> str:
    """A short public name for a key: derived from it, useless for recomputing hashes."""
    if key == DEVELOPMENT_KEY:
        return DEVELOPMENT_KEY_ID
    return hmac.new(key.encode(), b"coregroup audit key id", hashlib.sha256).hexdigest()[:8]


def _keys_from(setting: str | None, *, production: bool) -> _Keys:
    keys = [k.strip() for k in (setting or "").split(",") if k.strip()]
    if not keys:
        if production:  # fail closed: nothing is written under a key everyone knows
            return _Keys(signing=None, verifying={})
        keys = [DEVELOPMENT_KEY]
    named = {key_id(k): k.encode() for k in keys}
    first = keys[0]
    return _Keys(signing=(key_id(first), first.encode()), verifying=named)


_keys = _keys_from(None, production=False)


class AuditKeyMissing(StorageError):
    """Production without ``COREGROUP_AUDIT_KEY``: the audit log cannot be extended."""

    def __init__(self) -> None:
        super().__init__(
            "The audit key is not set (COREGROUP_AUDIT_KEY), so nothing can be recorded. "
            "Ask your administrator to set it."
        )


def configure(setting: str | None, *, production: bool = False) -> None:
    """Install the process-wide audit key(s) from ``COREGROUP_AUDIT_KEY``."""
    global _keys
    _keys = _keys_from(setting, production=production)


def using_development_key() -> bool:
    """Whether new rows are signed with the published development key."""
    return _keys.signing is not None and _keys.signing[0] == DEVELOPMENT_KEY_ID


def sign(body: bytes) -> tuple[str, str]:
    """(``hash_alg``, hex digest) for a new row."""
    if _keys.signing is None:
        raise AuditKeyMissing()
    kid, key = _keys.signing
    return HMAC_PREFIX + kid, hmac.new(key, body, hashlib.sha256).hexdigest()


def check(alg: str, body: bytes, digest: str) -> str | None:
    """Why ``digest`` is not the hash of ``body`` under ``alg`` (None when it is)."""
    if alg == LEGACY_ALG:
        expected = hashlib.sha256(body).hexdigest()
    elif alg.startswith(HMAC_PREFIX):
        key = _keys.verifying.get(alg[len(HMAC_PREFIX) :])
        if key is None:
            return "it was signed with an audit key that is not configured"
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    else:
        return "its hash algorithm is unknown"
    if not hmac.compare_digest(expected, digest):
        return "its hash does not match its content (edited, or recomputed without the key)"
    return None
