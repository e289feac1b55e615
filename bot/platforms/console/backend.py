"""A whole platform in memory: a channel log, a DM inbox per person, forms waiting to be filled.

It implements :class:`bot.transport.Transport`, so the REPL, the scripted demo and the
whole-dialogue tests drive exactly the handlers, store and deliverer that Slack and Teams use.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.platforms.console.render import render_text
from bot.runtime import Runtime
from bot.transport import PlatformRef, ReplyContext
from handlers.base.events import Actor, Command, Event, FormSubmit, HomeOpened, Press, TypedText
from handlers.base.messages import Button, Buttons, Form, FormValues, Message

PLATFORM = "console"
ORG = "console"


@dataclass
class Shown:
    """One message as a person sees it (updated in place when the bot edits it)."""

    id: int
    where: str  # "#channel" or "@user"
    message: Message
    thread: int | None = None
    edits: int = 0
    opened_as_dialogue: bool = False  # first sent with question buttons

    @property
    def text(self) -> str:
        return render_text(self.message)

    def buttons(self) -> list[Button]:
        return [
            b for block in self.message.blocks if isinstance(block, Buttons) for b in block.buttons
        ]


@dataclass
class ConsoleTransport:
    """Records what the bot says; ``on_show`` lets the REPL print as it happens."""

    platform: str = PLATFORM
    messages: dict[int, Shown] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    replies: dict[str, list[Message]] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    homes: dict[str, Message] = field(default_factory=dict)
    on_show: Callable[[Shown, bool], None] | None = None
    file_dir: Path | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _show(self, where: str, message: Message, thread: int | None = None) -> PlatformRef:
        shown = Shown(next(self._ids), where, message, thread)
        shown.opened_as_dialogue = any(b.action.startswith("dlg.") for b in shown.buttons())
        self.messages[shown.id] = shown
        if self.on_show:
            self.on_show(shown, False)
        return {"id": shown.id}

    async def post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef:
        return self._show(f"#{channel_id}", message, thread["id"] if thread else None)

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef:
        return self._show(f"@{user_id}", message)

    async def update(self, org: str, ref: PlatformRef, message: Message) -> None:
        shown = self.messages[int(ref["id"])]
        shown.message = message
        shown.edits += 1
        if self.on_show:
            self.on_show(shown, True)

    async def reply(self, ctx: ReplyContext, message: Message) -> None:
        self.replies.setdefault(ctx.user_id, []).append(message)
        if self.on_show:
            self.on_show(Shown(0, f"(only you) @{ctx.user_id}", message), False)

    async def open_form(self, ctx: ReplyContext, form: Form) -> None:
        self.forms[ctx.user_id] = form

    async def publish_home(self, org: str, user_id: str, message: Message) -> None:
        self.homes[user_id] = message

    async def upload(
        self,
        org: str,
        channel_id: str,
        filename: str,
        content: bytes,
        title: str,
        thread: PlatformRef | None,
    ) -> None:
        self.files.append((filename, content))
        if self.file_dir is not None:
            self.file_dir.mkdir(parents=True, exist_ok=True)
            (self.file_dir / filename).write_bytes(content)

    async def direct_upload(
        self, org: str, user_id: str, filename: str, content: bytes, title: str, ref: str
    ) -> None:
        await self.upload(org, f"@{user_id}", filename, content, title, None)


class ConsoleBackend:
    """Act as any person in the console organisation and see what they see."""

    def __init__(
        self,
        runtime: Runtime,
        channel: str = "core-group",
        transport: ConsoleTransport | None = None,
    ) -> None:
        self.runtime = runtime
        self.channel = channel
        # Pass the old transport to model a bot restart: the platform keeps its messages.
        self.transport = transport or ConsoleTransport()
        runtime.add_transport(self.transport)
        self.names: dict[str, str] = {}

    def actor(self, user: str) -> Actor:
        return Actor(PLATFORM, ORG, user, self.names.get(user, user))

    async def send(self, event: Event) -> None:
        ctx = ReplyContext(ORG, event.actor.user_id, getattr(event, "channel_id", None))
        await self.runtime.dispatch(event, ctx)

    async def command(self, user: str, text: str, *, channel: str | None = None) -> None:
        await self.send(Command(self.actor(user), text, channel or self.channel))

    async def press(self, user: str, button: Button) -> None:
        await self.send(Press(self.actor(user), button.action, button.value))

    async def submit(self, user: str, values: FormValues) -> None:
        form = self.transport.forms.pop(user)
        await self.send(FormSubmit(self.actor(user), form.form_id, values, form.state))

    async def type(self, user: str, text: str) -> None:
        await self.send(TypedText(self.actor(user), text))

    async def home(self, user: str) -> Message:
        await self.send(HomeOpened(self.actor(user)))
        return self.transport.homes[user]

    # ---- what a person sees ----

    def dms(self, user: str) -> list[Shown]:
        return [m for m in self.transport.messages.values() if m.where == f"@{user}"]

    def channel_log(self, channel: str | None = None) -> list[Shown]:
        where = f"#{channel or self.channel}"
        return [m for m in self.transport.messages.values() if m.where == where]

    def last_dm(self, user: str) -> Shown:
        return self.dms(user)[-1]

    def last_reply(self, user: str) -> Message:
        return self.transport.replies[user][-1]

    def form(self, user: str) -> Form | None:
        return self.transport.forms.get(user)

    def dialogue(self, user: str) -> Shown:
        """The person's question message (the first DM with dialogue buttons)."""
        for shown in self.dms(user):
            if shown.opened_as_dialogue:
                return shown
        raise LookupError(f"{user} has no question message")

    def button(self, shown: Shown, label: str) -> Button:
        for b in shown.buttons():
            if b.label == label:
                return b
        raise LookupError(f"no button '{label}' in: {[b.label for b in shown.buttons()]}")

    async def click(self, user: str, label: str, shown: Shown | None = None) -> Shown:
        """Press a button on a message (default: the person's question message)."""
        target = shown or self.dialogue(user)
        await self.press(user, self.button(target, label))
        return self.transport.messages.get(target.id, target)
