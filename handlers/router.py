"""Entry point for every neutral event: routes it to the use case that handles it.

A refusal (``CoreGroupError``, or a storage or prompts error: ``REFUSABLE``) becomes a kind
``Reply`` to the person who acted and changes nothing else, because each use case does its
writes in one transaction that the error rolls back. Anything unexpected is logged (ids only)
and answered with a generic apology.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from sqlmodel import select

from handlers import home
from handlers.base import i18n
from handlers.base.access import ensure_org, members_of
from handlers.base.buttons import ACTION_DONE, ACTION_NOT_YET, REMOVE_NO, REMOVE_YES
from handlers.base.core import Core
from handlers.base.errors import REFUSABLE, BadInput, CoreGroupError, as_refusal
from handlers.base.events import (
    Actor,
    Command,
    Event,
    FormSubmit,
    HomeOpened,
    Joined,
    Left,
    Press,
    TypedText,
)
from handlers.base.ids import parse_id
from handlers.base.messages import (
    Direct,
    Intent,
    Mention,
    Message,
    OpenForm,
    Paragraph,
    Reply,
    Span,
)
from handlers.base.request import resolve
from handlers.base.wording import t_spans
from handlers.groups import away, draft, leaving, lifecycle, people, setup
from handlers.oversight import digest
from handlers.records import actions, files, trajectory
from handlers.reflection import closing, debrief, dialogue, feedback, membership, sessions
from handlers.scheduling import channel_nudges, planned_date
from prompts.strings import t
from storage.models import CoreGroup

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 2000


def refusal(error: CoreGroupError, lang: str = "en", *, on_form: bool = False) -> Reply:
    said = error.message_in(lang)
    spans: list[Span] = [said]
    if error.mention:
        spans += [" ", *t_spans("errors.facilitator_is", lang, facilitator=Mention(error.mention))]
    return Reply(Message(text=said, blocks=(Paragraph(tuple(spans)),)), on_form=on_form)


async def _refusal_language(core: Core, actor: Actor) -> str:
    """The refused person's language; English if even that cannot be looked up."""
    try:
        return await i18n.actor_language(core, actor)
    except REFUSABLE:
        return "en"


async def handle(core: Core, event: Event) -> list[Intent]:
    """Handle one event. Refusals come back as a ``Reply`` with a kind message; nothing changes."""
    try:
        if _answered(event):
            # Who is asking, in which organisation, with which roles and language: once.
            request = await resolve(core, event.actor, getattr(event, "channel_id", None))
            event = dataclasses.replace(event, actor=request)
        return await _route(core, event)
    except REFUSABLE as raised:
        error = as_refusal(raised)
        log.info("refused", extra={"event": type(event).__name__, "error": type(raised).__name__})
        # Something typed into a form can be corrected there; other refusals end the form.
        fixable = isinstance(event, FormSubmit) and isinstance(error, BadInput)
        return [refusal(error, await _refusal_language(core, event.actor), on_form=fixable)]


def _answered(event: Event) -> bool:
    """Whether the bot acts on this event (channel chatter and joins cost no query)."""
    if isinstance(event, TypedText):
        return event.is_direct
    return not isinstance(event, Joined)


async def _route(core: Core, event: Event) -> list[Intent]:
    if isinstance(event, Command):
        return await _command(core, event)
    if isinstance(event, Press):
        return await _press(core, event)
    if isinstance(event, FormSubmit):
        return await _form(core, event)
    if isinstance(event, TypedText):
        return await _typed(core, event)
    if isinstance(event, HomeOpened):
        return await home.home_view(core, event.actor)
    if isinstance(event, Joined):
        return []
    if isinstance(event, Left):
        return await leaving.someone_left(core, event)
    raise BadInput()


CommandHandler = Callable[[Core, Actor, str | None, str], Awaitable[list[Intent]]]


async def _help(core: Core, actor: Actor, channel: str | None, rest: str) -> list[Intent]:
    return [Reply(sessions.help_message(await i18n.actor_language(core, actor)))]


async def _sets(core: Core, actor: Actor, channel: str | None, rest: str) -> list[Intent]:
    return [Reply(sessions.sets_message(core, await i18n.actor_language(core, actor)))]


async def _start(core: Core, actor: Actor, channel: str | None, rest: str) -> list[Intent]:
    return await sessions.start(core, actor, channel, rest.strip())


async def _setup(core: Core, actor: Actor, channel: str | None, rest: str) -> list[Intent]:
    if rest.strip():
        return await setup.register(core, actor, channel, draft.parse_inline(rest))
    return await _setup_form(core, actor, channel)


# `/reflect <word> <rest>`: each word's use case. A word that names a question set starts it.
COMMANDS: dict[str, CommandHandler] = {
    "": _start,
    "start": _start,
    "help": _help,
    "sets": _sets,
    "setup": _setup,
    "language": lambda core, actor, channel, rest: i18n.set_language(core, actor, rest),
    "attendance": lambda core, actor, channel, rest: feedback.attendance(core, actor, channel),
    "feedback": lambda core, actor, channel, rest: feedback.show_feedback(core, actor, channel),
    "status": lambda core, actor, channel, rest: sessions.status(core, actor, channel),
    "remind": lambda core, actor, channel, rest: sessions.remind_outstanding(
        core, actor, channel_id=channel
    ),
    "close": lambda core, actor, channel, rest: closing.open_close_form(
        core, actor, channel_id=channel
    ),
    "cancel": lambda core, actor, channel, rest: sessions.cancel(core, actor, channel),
    "plan": planned_date.plan_command,
    "add": people.add_member,
    "cofacilitator": people.set_co_facilitator,
    "co-facilitator": people.set_co_facilitator,
    "export": files.export_from_chat,
    "trajectory": lambda core, actor, channel, rest: trajectory.show_trajectory(
        core, actor, channel
    ),
    "debrief": lambda core, actor, channel, rest: debrief.show(core, actor, channel),
    "digest": lambda core, actor, channel, rest: digest.digest_in_chat(core, actor, rest),
    "role": lambda core, actor, channel, rest: people.grant_role(core, actor, rest),
    "end": lifecycle.end,
    "resume": lifecycle.resume,
    "handover": lifecycle.handover,
    "remove": lambda core, actor, channel, rest: leaving.remove(
        core, actor, channel, rest, in_session=membership.end_participation
    ),
    "away": lambda core, actor, channel, rest: away.away(
        core, actor, channel, rest, in_session=membership.pause_participation
    ),
    "back": lambda core, actor, channel, rest: away.back(
        core, actor, channel, rest, in_session=membership.invite_again
    ),
    "actions": actions.list_actions,
}
# What works in a direct message with the bot (everything else needs the group's channel).
DIRECT_OK = frozenset({"help", "sets", "digest", "language"})


async def _command(core: Core, event: Command) -> list[Intent]:
    text = event.text.strip()
    if len(text) > MAX_COMMAND_CHARS:
        raise BadInput(key="errors.command_too_long")
    word, _, rest = text.partition(" ")
    word = word.lower()
    if event.is_direct and word in ("", "start"):
        return await _help(core, event.actor, None, rest)
    if event.is_direct and word not in DIRECT_OK:
        raise BadInput(key="errors.use_in_channel")
    handler = COMMANDS.get(word)
    if handler is not None:
        return await handler(core, event.actor, event.channel_id, rest)
    if core.sets.has(word):
        return await sessions.start(core, event.actor, event.channel_id, f"{word} {rest}".strip())
    raise BadInput(key="errors.unknown_word", word=word[:30])


async def _setup_form(core: Core, actor: Actor, channel: str | None) -> list[Intent]:
    if not channel:
        raise BadInput(key="errors.setup_in_channel")
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        existing = (
            await s.exec(
                select(CoreGroup).where(CoreGroup.org_id == org.id, CoreGroup.channel_id == channel)
            )
        ).first()
        members = await members_of(s, existing.id or 0) if existing else []
        lang = await i18n.language_for(s, org, actor.user_id)
    return [OpenForm(setup.setup_form(channel, existing, members, lang))]


def _ids(value: str, parts: int, expired: str = "errors.button_expired") -> list[str]:
    bits = value.split(":")
    if len(bits) != parts or parse_id(bits[0]) is None:
        raise BadInput(key=expired)
    return bits


DialogueMove = Callable[[list[str]], dialogue.Move]
DIALOGUE_PRESSES: dict[str, tuple[int, DialogueMove]] = {
    "dlg.start": (1, lambda b: dialogue.Move("start")),
    "dlg.later": (1, lambda b: dialogue.Move("later")),
    "dlg.back": (1, lambda b: dialogue.Move("back")),
    "dlg.review": (1, lambda b: dialogue.Move("review")),
    "dlg.submit": (1, lambda b: dialogue.Move("submit")),
    "dlg.answer": (3, lambda b: dialogue.Move("answer", question_id=b[1], choice=b[2])),
    "dlg.skip": (2, lambda b: dialogue.Move("skip", question_id=b[1])),
    "dlg.next": (2, lambda b: dialogue.Move("next", question_id=b[1])),
    "dlg.change": (2, lambda b: dialogue.Move("change", question_id=b[1])),
}


async def _press(core: Core, event: Press) -> list[Intent]:
    actor, action, value = event.actor, event.action, event.value
    if action in DIALOGUE_PRESSES:
        size, make = DIALOGUE_PRESSES[action]
        bits = _ids(value, size)
        return await dialogue.advance(core, actor, int(bits[0]), make(bits))
    if action in ("dlg.comment", "dlg.text"):
        bits = _ids(value, 2)
        return await _text_form(core, actor, int(bits[0]), bits[1])
    if action == "session.remind":
        return await sessions.remind_outstanding(core, actor, session_id=_int(value))
    if action == "session.close":
        return await closing.open_close_form(core, actor, session_id=_int(value))
    if action == "reflect.start":
        return await sessions.start_for_group(core, actor, _int(value))
    if action == channel_nudges.SNOOZE_ACTION:
        return await channel_nudges.snooze(core, actor, _int(value))
    if action == channel_nudges.PLAN_ACTION:
        return await planned_date.open_plan_form(core, actor, group_id=_int(value))
    if action == debrief.WRITE_PRESS:
        return await debrief.open_form(core, actor, _int(value))
    if action == home.PAGE_ACTION:
        return await home.home_view(core, actor, page=_int(value))
    if action in (ACTION_DONE, ACTION_NOT_YET):
        mark = actions.mark_done if action == ACTION_DONE else actions.not_yet
        return await mark(core, actor, _int(value))
    if action in (REMOVE_YES, REMOVE_NO):
        return await leaving.answer_left(
            core,
            actor,
            value,
            remove_them=action == REMOVE_YES,
            in_session=membership.end_participation,
        )
    if action == "home.continue":
        pid = _int(value)
        view = await dialogue.current_view(core, actor, pid)
        return [Direct(actor.user_id, view, remember_as=dialogue.dialogue_key(pid))]
    raise BadInput(key="errors.button_expired")


def _int(value: str, expired: str = "errors.button_expired") -> int:
    number = parse_id(value)
    if number is None:
        raise BadInput(key=expired)
    return number


def _form_state(state: str) -> str:
    """A form's state naming a session, checked before any query (else the form expired)."""
    return str(_int(state, "errors.form_expired"))


async def _text_form(core: Core, actor: Actor, pid: int, qid: str) -> list[Intent]:
    """Open the short form for a comment or a free-text answer (and note we are waiting)."""
    intents = await dialogue.advance(core, actor, pid, dialogue.Move("ask_text", question_id=qid))
    form = await dialogue.text_form(core, actor, pid, qid)
    return [*intents, OpenForm(form)]


async def _form(core: Core, event: FormSubmit) -> list[Intent]:
    actor = event.actor
    if event.form_id == setup.SETUP_FORM:
        described = draft.parse_form(event.values)
        return await setup.register(core, actor, event.state or None, described)
    if event.form_id == debrief.DEBRIEF_FORM:
        return await debrief.save(core, actor, _form_state(event.state), event.values)
    if event.form_id == planned_date.PLAN_FORM:
        return await planned_date.save_plan(
            core, actor, event.values.get("on"), group_id=_int(event.state, "errors.form_expired")
        )
    if event.form_id == closing.CLOSE_FORM:
        return await closing.submit_close(core, actor, _form_state(event.state), event.values)
    if event.form_id == dialogue.TEXT_FORM:
        bits = _ids(event.state, 2, "errors.form_expired")
        raw = event.values.get("text")
        text = raw if isinstance(raw, str) else ""
        return await dialogue.advance(
            core, actor, int(bits[0]), dialogue.Move("text", question_id=bits[1], text=text)
        )
    raise BadInput(key="errors.form_expired")


async def _typed(core: Core, event: TypedText) -> list[Intent]:
    if not event.is_direct:
        return []
    waiting = await dialogue.awaiting_text(core, event.actor)
    if waiting is None:
        said = t("help.hello", await i18n.actor_language(core, event.actor))
        return [Reply(Message(text=said, blocks=(Paragraph((said,)),)))]
    pid, qid = waiting
    return await dialogue.advance(
        core, event.actor, pid, dialogue.Move("text", question_id=qid, text=event.text)
    )
