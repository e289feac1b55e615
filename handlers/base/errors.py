"""One error root. Every subclass carries a message that is safe to show the person in chat.

The storage and prompts layers raise their own errors, which say what went wrong but not what
to tell a person; ``as_refusal`` turns them into the message shown.
"""

from __future__ import annotations

from prompts.errors import PromptsError
from prompts.strings import t
from storage import errors as storage_errors


class CoreGroupError(Exception):
    """Root of every error the bot raises on purpose.

    ``user_message`` is written for the practitioner: calm, plain, and says what to do next.
    It never contains answer text or a child reference that the reader may not see.
    """

    user_message: str = "Something went wrong. Please try again in a moment."
    # The UI string (prompts/strings) for this refusal, so it can be said in the reader's language.
    key: str | None = "errors.generic"

    def __init__(
        self,
        user_message: str | None = None,
        *,
        mention: str | None = None,
        key: str | None = None,
        **values: object,
    ) -> None:
        self.values = values
        if key is not None:
            self.key = key
            self.user_message = t(key, "en", **values)
        elif user_message is not None:
            self.key = None  # a literal message: shown as written
            self.user_message = user_message
        else:
            self.key = _class_key(type(self))
        # A person to point to ("The facilitator is @RO."), by platform user id.
        self.mention = mention
        super().__init__(self.user_message)

    def message_in(self, lang: str) -> str:
        """The message in the reader's language (English when it was given as a literal)."""
        return t(self.key, lang, **self.values) if self.key else self.user_message


def _class_key(cls: type) -> str | None:
    """The key of the nearest class that sets the message: a subclass that only overrides
    ``user_message`` must not be shown with its parent's wording."""
    for klass in cls.__mro__:
        if "key" in vars(klass) or "user_message" in vars(klass):
            key = vars(klass).get("key")
            return key if isinstance(key, str) else None
    return None


class NotAllowed(CoreGroupError):
    """The person may not do this (wrong role, not a member, other workspace)."""

    user_message = "Sorry, you can't do that here."
    key = "errors.not_allowed"


class NotFound(CoreGroupError):
    """The thing asked for does not exist (or is not visible to this person)."""

    user_message = "I couldn't find that. It may have been closed or removed."
    key = "errors.not_found"


class BadInput(CoreGroupError):
    """Input that cannot be used: too long, malformed, unknown command."""

    user_message = "I didn't understand that. Try `/reflect help`."
    key = "errors.bad_input"


class Conflict(CoreGroupError):
    """The state changed underneath the request (closed session, stale button)."""

    user_message = "That has already changed. Here is the latest."
    key = "errors.stale"


class Unavailable(CoreGroupError):
    """A dependency (database, platform API) is down; nothing was changed."""

    user_message = (
        "I can't reach my records right now, so nothing was saved. Please try again in a minute."
    )
    key = "errors.unavailable"


# Everything a handler, the router or a command may refuse with and explain to the person.
REFUSABLE: tuple[type[Exception], ...] = (
    CoreGroupError,
    storage_errors.StorageError,
    PromptsError,
)


def as_refusal(error: Exception) -> CoreGroupError:
    """The user-safe error for ``error`` (one of ``REFUSABLE``).

    A database that cannot be reached reads as ``Unavailable`` in the reader's language; the
    other storage and prompts errors are written for whoever can fix them and shown as written.
    """
    if isinstance(error, CoreGroupError):
        return error
    if isinstance(error, storage_errors.Unavailable):
        return Unavailable()
    return CoreGroupError(str(error))
