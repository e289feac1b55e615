"""What the storage layer raises on purpose.

These say what went wrong with the stored data, not what to tell a person: the handlers map
them to the kind, translated refusals people see (``handlers.base.errors.as_refusal``).
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of the errors the storage layer raises on purpose."""


class Unavailable(StorageError):
    """The database cannot be reached; the transaction was rolled back, nothing was changed."""

    def __init__(self) -> None:
        super().__init__("The database cannot be reached.")


class Undecryptable(StorageError):
    """The configured key cannot decrypt stored text (a wrong or rotated-out key).

    The message is written for an administrator and names no stored content.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Some stored text could not be decrypted. Ask your administrator to check the key."
        )
