"""A reflection session's life: start, progress, remind, cancel; opening it lives in ``opening``,
closing in ``closing``.

Command grammar (after ``/reflect`` in Slack and the console, ``@bot reflect`` in Teams)::

    /reflect                 start the default set (Appendix 1) in this core group's channel
    /reflect <set>           start a named set (see /reflect sets)
    /reflect setup [k=v …]   register this channel as a core group (form, or inline arguments)
    /reflect status          who has reflected so far (no answers are shown before close)
    /reflect remind          remind those who have not answered yet (facilitator)
    /reflect close           record the agreed position and close (facilitator)
    /reflect cancel          cancel the open session (facilitator)
    /reflect add @person Agency · /reflect role @person facilitator|lead_officer|admin
    /reflect sets · /reflect help
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    ensure_org,
    group_by_id,
    group_for_channel,
    is_org_admin,
    member_in,
    open_session,
    require_facilitator,
    session_for,
)
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for, languages_for
from handlers.base.messages import (
    Context,
    Direct,
    Heading,
    Intent,
    Message,
    Paragraph,
    Reply,
    Strong,
    Update,
    plain,
    progress_key,
)
from handlers.base.wording import local_deadline
from handlers.reflection.dialogue import dialogue_key
from handlers.reflection.opening import open_reflection
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import closed_message, invitation
from prompts.loader import DEFAULT_SET
from prompts.strings import t
from storage.models import (
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

HELP_LINES = (
    ("/reflect", "help.start"),
    ("/reflect <set>", "help.start_set"),
    ("/reflect action_learning presenter=@a enabler=@b", "help.roles"),
    ("/reflect setup", "help.setup"),
    ("/reflect status", "help.status"),
    ("/reflect remind", "help.remind"),
    ("/reflect close", "help.close"),
    ("/reflect cancel", "help.cancel"),
    ("/reflect plan 2026-05-12", "help.plan"),
    ("/reflect add @person Agency", "help.add"),
    ("/reflect role @person facilitator", "help.role"),
    ("/reflect export [docx|md|json]", "help.export"),
    ("/reflect export casefile", "help.export_casefile"),
    ("/reflect trajectory", "help.trajectory"),
    ("/reflect debrief", "help.debrief"),
    ("/reflect digest", "help.digest"),
    ("/reflect attendance", "help.attendance"),
    ("/reflect feedback", "help.feedback"),
    ("/reflect language cy|en", "help.language"),
    ("/reflect sets", "help.sets"),
    ("/reflect remove @person", "help.remove"),
    ("/reflect away until 2026-08-31", "help.away"),
    ("/reflect back", "help.back"),
    ("/reflect handover @person", "help.handover"),
    ("/reflect actions", "help.actions"),
    ("/reflect end [reason]", "help.end"),
    ("/reflect resume", "help.resume"),
)
# Away or gone: not asked to reflect, not reminded.
NOT_ASKED = (ParticipationState.AWAY, ParticipationState.LEFT)


def help_message(lang: str = "en") -> Message:
    lines = [t("help.line", lang, command=cmd, what=t(key, lang)) for cmd, key in HELP_LINES]
    intro = t("help.intro", lang)
    return Message(
        text=intro + "\n" + "\n".join(lines),
        blocks=(
            Heading(t("help.title", lang)),
            Paragraph((intro,)),
            Context(tuple(line + "\n" for line in lines)),
        ),
    )


def sets_message(core: Core, lang: str = "en") -> Message:
    sets = [core.sets.get(set_id, lang) for set_id in core.sets.ids()]
    text = "\n".join(
        t("sets.format_line", lang, set_id=q.id, title=q.title, minutes=q.minutes) for q in sets
    )
    return Message(
        text=t("sets.formats_intro", lang) + "\n" + text,
        blocks=(
            Heading(t("sets.formats_title", lang)),
            *(
                Paragraph(
                    (
                        Strong(f"/reflect {q.id}"),
                        ": ",
                        t(
                            "sets.format_item",
                            lang,
                            title=q.title,
                            summary=q.summary,
                            minutes=q.minutes,
                        ),
                    )
                )
                for q in sets
            ),
        ),
    )


async def start(core: Core, actor: Actor, channel_id: str | None, set_name: str) -> list[Intent]:
    """Open a session in the channel's core group and invite every member by DM.

    ``set_name`` may carry session roles after the set: ``action_learning presenter=@a``.
    """
    words = set_name.split()
    set_id = words[0] if words else DEFAULT_SET
    if not core.sets.has(set_id):
        raise BadInput(key="errors.unknown_format", set_id=set_id[:40])
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        return await open_reflection(core, s, org, group, actor, set_id, words[1:])


async def start_for_group(core: Core, actor: Actor, group_id: int) -> list[Intent]:
    """The "Start now" button on a due-supervision nudge."""
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_by_id(s, org, group_id)
        return await open_reflection(core, s, org, group, actor, DEFAULT_SET)


async def _session_in_channel(
    s: AsyncSession, core: Core, actor: Actor, channel_id: str | None
) -> tuple[Organisation, CoreGroup, ReflectionSession]:
    org = await ensure_org(s, core, actor)
    group = await group_for_channel(s, org, channel_id)
    session = await open_session(s, group.id or 0)
    if session is None:
        raise NotFound(key="errors.no_open_session")
    return org, group, session


async def status(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    async with core.db.read() as s:
        org, group, session = await _session_in_channel(s, core, actor, channel_id)
        # Names and the child's reference: the group's own people and admins only.
        if not (
            await member_in(s, group.id or 0, actor.user_id)
            or actor.user_id == group.facilitator_id
            or await is_org_admin(s, org, actor.user_id)
        ):
            raise NotAllowed("Only the core group's members can see its progress.")
        return [Reply(await progress_view(s, session, group, core))]


async def remind_outstanding(
    core: Core, actor: Actor, *, channel_id: str | None = None, session_id: int | None = None
) -> list[Intent]:
    """The facilitator's "Remind those outstanding": one DM each, pointing at their questions."""
    async with core.db.write() as s:
        if session_id is not None:
            org = await ensure_org(s, core, actor)
            session, group = await session_for(s, org, session_id)
        else:
            org, group, session = await _session_in_channel(s, core, actor, channel_id)
        await require_facilitator(s, group, actor, "send reminders")
        if session.status != SessionStatus.OPEN:
            raise Conflict(key="errors.session_has_closed")
        rows = await s.exec(
            select(Participation, Member)
            .join(Member, col(Member.id) == col(Participation.member_id))
            .where(
                Participation.session_id == session.id,
                col(Participation.finished_at).is_(None),
                col(Participation.state).not_in(NOT_ASKED),
                col(Member.active) == True,  # noqa: E712
            )
        )
        outstanding = list(rows)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="session.reminded",
            subject=f"session:{session.id}",
            at=core.now(),
            count=len(outstanding),
        )
        langs = await languages_for(s, org, [m.user_id for _p, m in outstanding])
        actor_lang = await language_for(s, org, actor.user_id)
    intents = _reminders(core, org, group, session, outstanding, langs)
    intents.append(Reply(plain(_reminded(len(outstanding), actor_lang))))
    return intents


def _reminders(
    core: Core,
    org: Organisation,
    group: CoreGroup,
    session: ReflectionSession,
    outstanding: list[tuple[Participation, Member]],
    langs: dict[str, str],
) -> list[Intent]:
    """A reminder DM each; an invitation not yet started is shown again with its deadline."""
    intents: list[Intent] = []
    for p, m in outstanding:
        lang = langs[m.user_id]
        deadline = local_deadline(session.closes_at, org.timezone, lang)
        key = "progress.reminder_open_until" if deadline else "progress.reminder_open"
        intents.append(
            Direct(m.user_id, plain(t(key, lang, child_ref=group.child_ref, closes_at=deadline)))
        )
        if p.state in (ParticipationState.INVITED, ParticipationState.DEFERRED):
            intents.append(
                Update(
                    dialogue_key(p.id or 0),
                    invitation(
                        core.sets.get(session.set_id, lang),
                        group.child_ref,
                        deadline,
                        p.id or 0,
                        group.facilitator_id,
                        lang=lang,
                        role=p.role,
                    ),
                )
            )
    return intents


def _reminded(count: int, lang: str) -> str:
    if not count:
        return t("progress.nobody_outstanding", lang)
    if count == 1:
        return t("progress.reminded_one", lang)
    return t("progress.reminded_many", lang, count=count)


async def cancel(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    async with core.db.write() as s:
        org, group, session = await _session_in_channel(s, core, actor, channel_id)
        await require_facilitator(s, group, actor, "cancel this session")
        session.status = SessionStatus.CANCELLED
        session.closed_by = actor.user_id
        session.closed_at = core.now()
        s.add(session)
        await s.flush()
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="session.cancelled",
            subject=f"session:{session.id}",
            at=core.now(),
        )
        parts = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, col(Member.id) == col(Participation.member_id))
                .where(Participation.session_id == session.id)
            )
        )
        progress = await progress_view(s, session, group, core)
        langs = await languages_for(s, org, [m.user_id for _p, m in parts])
        actor_lang = await language_for(s, org, actor.user_id)
    intents: list[Intent] = [Update(progress_key(session.id or 0), progress)]
    for p, m in parts:
        closed = closed_message(group.child_ref, True, lang=langs[m.user_id])
        intents.append(Update(dialogue_key(p.id or 0), closed))
    intents.append(Reply(plain(t("progress.cancelled_reply", actor_lang))))
    return intents
