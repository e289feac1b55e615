"""Neutral inbound events. Adapters build these from payloads; handlers see nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.base.messages import FormValues


@dataclass(frozen=True)
class Actor:
    """Who acted: platform, organisation (Slack team id / Teams tenant id) and platform user id."""

    platform: str
    org: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Command:
    """``/reflect …`` in Slack, ``@bot reflect …`` in Teams, ``/reflect …`` in the console.

    ``text`` is what followed the command word.
    """

    actor: Actor
    text: str
    channel_id: str | None = None
    is_direct: bool = False


@dataclass(frozen=True)
class Press:
    """A button was pressed. ``action`` names the handler; ``value`` carries ids only."""

    actor: Actor
    action: str
    value: str = ""
    channel_id: str | None = None


@dataclass(frozen=True)
class FormSubmit:
    actor: Actor
    form_id: str
    values: FormValues = field(default_factory=dict)
    state: str = ""


@dataclass(frozen=True)
class TypedText:
    """A plain message typed to the bot (a DM answer to a free-text question, say)."""

    actor: Actor
    text: str
    channel_id: str | None = None
    is_direct: bool = True


@dataclass(frozen=True)
class Joined:
    """The bot was added to a conversation, or a member first talked to it (Teams references)."""

    actor: Actor
    channel_id: str | None = None


@dataclass(frozen=True)
class HomeOpened:
    """The person opened the bot's home (Slack App Home; Teams personal tab/"home" command)."""

    actor: Actor


Event = Command | Press | FormSubmit | TypedText | Joined | HomeOpened
