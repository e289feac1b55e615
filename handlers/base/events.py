"""Neutral inbound events. Adapters build these from payloads; handlers see nothing else.

Every text an event carries is scrubbed when the event is built (bidi overrides, NUL and other
control characters removed; see :mod:`handlers.text`), so no adapter, present or future, can
hand a handler text that would be stored or echoed with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from handlers.base.messages import FormValues
from prompts.text import scrub


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, Mapping):
        return {_scrubbed(k): _scrubbed(v) for k, v in value.items()}
    return value


class _Scrubbed:
    """Scrub every text field as the (frozen) event is built."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            cleaned = _scrubbed(value)
            if cleaned is not value:
                object.__setattr__(self, f.name, cleaned)


@dataclass(frozen=True)
class Actor(_Scrubbed):
    """Who acted: platform, organisation (Slack team id / Teams tenant id) and platform user id."""

    platform: str
    org: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Command(_Scrubbed):
    """``/reflect …`` in Slack, ``@bot reflect …`` in Teams, ``/reflect …`` in the console.

    ``text`` is what followed the command word.
    """

    actor: Actor
    text: str
    channel_id: str | None = None
    is_direct: bool = False


@dataclass(frozen=True)
class Press(_Scrubbed):
    """A button was pressed. ``action`` names the handler; ``value`` carries ids only."""

    actor: Actor
    action: str
    value: str = ""
    channel_id: str | None = None


@dataclass(frozen=True)
class FormSubmit(_Scrubbed):
    actor: Actor
    form_id: str
    values: FormValues = field(default_factory=dict)
    state: str = ""


@dataclass(frozen=True)
class TypedText(_Scrubbed):
    """A plain message typed to the bot (a DM answer to a free-text question, say)."""

    actor: Actor
    text: str
    channel_id: str | None = None
    is_direct: bool = True


@dataclass(frozen=True)
class Joined(_Scrubbed):
    """The bot was added to a conversation, or a member first talked to it (Teams references)."""

    actor: Actor
    channel_id: str | None = None


@dataclass(frozen=True)
class Left(_Scrubbed):
    """People left a conversation (Slack channel, Teams team or channel).

    ``people`` are the platform user ids of those who left (``actor`` is whoever the platform
    names as acting, often the person who left). Nothing changes by itself: each group's
    facilitator is asked whether to remove them from the core group.
    """

    actor: Actor
    channel_id: str | None = None
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class HomeOpened(_Scrubbed):
    """The person opened the bot's home (Slack App Home; Teams personal tab/"home" command)."""

    actor: Actor


Event = Command | Press | FormSubmit | TypedText | Joined | Left | HomeOpened
