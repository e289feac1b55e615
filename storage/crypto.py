"""Field-level encryption of free text (Fernet / MultiFernet), switched on by a key.

Values written while a key is set are stored as ``fernet:<token>``; values without the prefix are
plain text written before encryption was enabled, so switching it on needs no migration.
Several comma-separated keys enable rotation: the first encrypts, all of them decrypt.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.errors import Undecryptable

PREFIX = "fernet:"
_cipher: MultiFernet | None = None


def configure(keys: str | None) -> None:
    """Install the process-wide cipher from ``COREGROUP_ENCRYPTION_KEY`` (or disable it)."""
    global _cipher
    if not keys:
        _cipher = None
        return
    fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
    _cipher = MultiFernet(fernets) if fernets else None


def enabled() -> bool:
    """Whether free text is being encrypted on write."""
    return _cipher is not None


def seal(text: str) -> str:
    """Encrypt ``text`` if a key is configured; otherwise store it as it is."""
    if _cipher is None:
        return text
    return PREFIX + _cipher.encrypt(text.encode()).decode()


def unseal(stored: str) -> str:
    """Decrypt a stored value (plain values pass through)."""
    if not stored.startswith(PREFIX):
        return stored
    if _cipher is None:
        raise Undecryptable()
    try:
        return _cipher.decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise Undecryptable() from exc


def rotate(stored: str) -> str:
    """Re-encrypt a stored value under the first (newest) key."""
    if _cipher is None or not stored.startswith(PREFIX):
        return seal(unseal(stored)) if _cipher is not None else stored
    return PREFIX + _cipher.rotate(stored[len(PREFIX) :].encode()).decode()


def new_key() -> str:
    """A fresh key for operators (`coregroup privacy new-key`)."""
    return Fernet.generate_key().decode()
