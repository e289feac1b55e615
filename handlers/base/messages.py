"""Neutral outbound values: what handlers want said, never how a platform says it.

Text is structured, not marked up: a paragraph is a tuple of spans (plain ``str``, ``Strong``,
``Quiet``, ``Mention``) and each adapter escapes every span for its own markup. A handler can
therefore never inject platform syntax, and neither can anything a practitioner typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from handlers.base.record_view import RecordView


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Quiet:
    text: str


@dataclass(frozen=True)
class Mention:
    """A person, by validated platform user id; ``name`` is the text fallback."""

    user_id: str
    name: str = ""


Span = str | Strong | Quiet | Mention


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Context:
    """A quieter line (guidance prompts, footers)."""

    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Fields:
    """Label/value pairs shown side by side where the platform can."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    # Read aloud by screen readers when the label alone would be ambiguous ("Change" × 14).
    spoken: str | None = None


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class RecordSummary:
    """The record's summary as neutral blocks, and ``brief``: the header alone, for a platform
    that refuses even the summary (it still points to the file, so nothing is lost)."""

    title: str
    blocks: tuple[Block, ...]
    brief: tuple[Block, ...]


@dataclass(frozen=True)
class RecordBlock:
    """The compiled record; each adapter renders it with its own template and size limits.

    With ``summary`` the chat platforms show that instead (one message; the full record goes
    as a file alongside); a console, which has no limits, still shows the whole record.
    """

    view: RecordView
    summary: RecordSummary | None = None


Block = Heading | Paragraph | Context | Fields | Buttons | Divider | RecordBlock


@dataclass(frozen=True)
class Message:
    """``text`` is the plain fallback: notifications, screen readers, clients without cards."""

    text: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Option:
    value: str
    label: str


FieldKind = Literal["text", "multiline", "select", "multi_select", "date", "user", "users", "check"]


@dataclass(frozen=True)
class FormField:
    id: str
    label: str
    kind: FieldKind = "text"
    hint: str = ""
    initial: str | tuple[str, ...] | bool | None = None
    options: tuple[Option, ...] = ()
    optional: bool = False
    max_length: int = 3000


@dataclass(frozen=True)
class Form:
    """A short form (Slack modal, Teams Adaptive Card inputs, console prompts).

    ``state`` travels with the form and comes back on submit: opaque ids only, never text.
    """

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    state: str = ""
    submit: str = "Save"
    intro: tuple[Span, ...] = ()


# ---- intents: what a handler asks the platform to do -------------------------------------------


def progress_key(session_id: int) -> str:
    """Where a session's progress message is remembered; the record and its files are posted
    in its thread."""
    return f"progress:{session_id}"


@dataclass(frozen=True)
class Post:
    """Post in a channel. ``thread_key`` names a remembered message to reply under."""

    channel_id: str
    message: Message
    remember_as: str | None = None
    thread_key: str | None = None


@dataclass(frozen=True)
class Direct:
    """Send a person a direct message (opening the 1:1 conversation if needed)."""

    user_id: str
    message: Message
    remember_as: str | None = None


@dataclass(frozen=True)
class Update:
    """Replace a remembered message in place; if it is unknown, ``fallback`` is sent instead."""

    key: str
    message: Message
    fallback: Post | Direct | None = None


@dataclass(frozen=True)
class Reply:
    """Answer only the person who acted, where they acted (ephemeral in a channel)."""

    message: Message
    # A form's entry was refused: a platform that can keep the form open shows this there, so
    # the person corrects it without losing what they typed (Slack's modal errors).
    on_form: bool = False


@dataclass(frozen=True)
class OpenForm:
    form: Form


@dataclass(frozen=True)
class Upload:
    """Attach a file (the Word record) in a channel, optionally in a remembered thread."""

    channel_id: str
    filename: str
    content: bytes
    title: str
    thread_key: str | None = None


@dataclass(frozen=True)
class DirectUpload:
    """Send a person a file in their direct conversation. ``ref`` names it by ids only
    (``record:<session id>``), so a platform that must ask first (Teams' file consent) can
    produce it again when the person accepts."""

    user_id: str
    filename: str
    content: bytes
    title: str
    ref: str = ""


@dataclass(frozen=True)
class Forget:
    """Drop a remembered message key (e.g. once a dialogue has finished)."""

    key: str


@dataclass(frozen=True)
class Home:
    """Show a person their home view (Slack App Home). Platforms without one send it as a DM."""

    user_id: str
    message: Message


Intent = Post | Direct | Update | Reply | OpenForm | Upload | DirectUpload | Forget | Home


@dataclass
class Outcome:
    """What handling one event produced."""

    intents: list[Intent] = field(default_factory=list)

    def add(self, *intents: Intent) -> Outcome:
        self.intents.extend(intents)
        return self


def plain(message_text: str) -> Message:
    """A one-paragraph message with the same plain fallback."""
    return Message(text=message_text, blocks=(Paragraph((message_text,)),))


def spans_text(spans: tuple[Span, ...]) -> str:
    """The plain-text reading of some spans (fallbacks, console, logs of shape only)."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, str):
            out.append(span)
        elif isinstance(span, Mention):
            out.append(span.name or span.user_id)
        else:
            out.append(span.text)
    return "".join(out)


FormValues = Mapping[str, str | list[str] | bool | None]
