"""One error root. Every subclass carries a message that is safe to show the person in chat."""

from __future__ import annotations


class CoreGroupError(Exception):
    """Root of every error the bot raises on purpose.

    ``user_message`` is written for the practitioner: calm, plain, and says what to do next.
    It never contains answer text or a child reference that the reader may not see.
    """

    user_message: str = "Something went wrong. Please try again in a moment."

    def __init__(self, user_message: str | None = None, *, mention: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        # A person to point to ("The facilitator is @RO."), by platform user id.
        self.mention = mention
        super().__init__(self.user_message)


class NotAllowed(CoreGroupError):
    """The person may not do this (wrong role, not a member, other workspace)."""

    user_message = "Sorry, you can't do that here."


class NotFound(CoreGroupError):
    """The thing asked for does not exist (or is not visible to this person)."""

    user_message = "I couldn't find that. It may have been closed or removed."


class BadInput(CoreGroupError):
    """Input that cannot be used: too long, malformed, unknown command."""

    user_message = "I didn't understand that. Try `/reflect help`."


class Conflict(CoreGroupError):
    """The state changed underneath the request (closed session, stale button)."""

    user_message = "That has already changed. Here is the latest."


class Unavailable(CoreGroupError):
    """A dependency (database, platform API) is down; nothing was changed."""

    user_message = (
        "I can't reach my records right now, so nothing was saved. Please try again in a minute."
    )
