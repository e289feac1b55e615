"""A person's home view: reflections waiting for them, their core groups, facilitator shortcuts."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.base.access import find_org
from handlers.base.core import Core
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Heading,
    Home,
    Intent,
    Message,
    Paragraph,
    Strong,
)
from handlers.base.wording import local_deadline
from handlers.scheduling.channel_nudges import planned_day
from handlers.scheduling.deliveries import calendar_for, short_date
from handlers.scheduling.due import DEFAULT_RULES
from handlers.scheduling.group_state import supervision_state
from prompts.strings import t
from storage.models import (
    CoreGroup,
    Member,
    Participation,
    ReflectionSession,
)


async def home_view(core: Core, actor: Actor) -> list[Intent]:
    async with core.db.read() as s:
        org = await find_org(s, actor)
        lang = await language_for(s, org, actor.user_id)
        title = t("home.title", lang)
        blocks: list[Block] = [Heading(title)]
        if org is None:
            blocks.append(Paragraph((t("home.no_groups", lang),)))
            return [Home(actor.user_id, Message(text=title, blocks=tuple(blocks)))]
        pending = list(
            await s.exec(
                select(Participation, ReflectionSession, CoreGroup)
                .join(Member, col(Member.id) == col(Participation.member_id))
                .join(ReflectionSession, col(ReflectionSession.id) == col(Participation.session_id))
                .join(CoreGroup, col(CoreGroup.id) == col(ReflectionSession.group_id))
                .where(
                    Member.user_id == actor.user_id,
                    CoreGroup.org_id == org.id,
                    ReflectionSession.status == "open",
                    col(Participation.finished_at).is_(None),
                )
            )
        )
        groups = list(
            await s.exec(
                select(CoreGroup, Member)
                .join(Member, col(Member.group_id) == col(CoreGroup.id))
                .where(
                    Member.user_id == actor.user_id,
                    Member.active == True,  # noqa: E712
                    CoreGroup.org_id == org.id,
                    CoreGroup.status == "active",
                )
            )
        )
        facilitating = list(
            await s.exec(
                select(CoreGroup).where(
                    CoreGroup.org_id == org.id,
                    CoreGroup.facilitator_id == actor.user_id,
                    CoreGroup.status == "active",
                )
            )
        )
        cal = calendar_for(org)
        due: dict[int, str] = {}
        for g in [g for g, _m in groups] + facilitating:
            state = await supervision_state(s, g, cal, core.now(), DEFAULT_RULES)
            planned = planned_day(g, cal)
            if planned is not None and planned >= state.today:
                when = short_date(planned, state.today, lang)
                due[g.id or 0] = " · " + t("home.planned", lang, date=when)
            elif state.due is not None:
                when = short_date(state.due.on, state.today, lang)
                due[g.id or 0] = " · " + t("home.due", lang, due_on=when)
    blocks.append(Paragraph((Strong(t("home.waiting", lang)),)))
    if not pending:
        blocks.append(Context((t("home.nothing_waiting", lang),)))
    for part, session, group in pending:
        until = local_deadline(session.closes_at, org.timezone, lang)
        blocks.append(
            Paragraph(
                (
                    t("home.reflection_for", lang, child_ref=group.child_ref),
                    " · " + t("home.open_until", lang, closes_at=until) if until else "",
                )
            )
        )
        blocks.append(
            Buttons(
                (
                    Button(
                        t("home.continue", lang),
                        "home.continue",
                        str(part.id),
                        style="primary",
                        spoken=t("home.continue_spoken", lang, child_ref=group.child_ref),
                    ),
                )
            )
        )
    blocks.append(Paragraph((Strong(t("home.my_groups", lang)),)))
    seen: set[int] = set()
    for group, member in groups:
        seen.add(group.id or 0)
        blocks.append(
            Paragraph(
                (
                    group.child_ref,
                    f" · {member.agency}" if member.agency else "",
                    due.get(group.id or 0, ""),
                )
            )
        )
    if not groups:
        blocks.append(Context((t("home.no_group", lang),)))
    mine = [g for g in facilitating if (g.id or 0) not in seen] + [
        g for g, m in groups if m.role == "facilitator"
    ]
    if mine:
        blocks.append(Paragraph((Strong(t("home.facilitating", lang)),)))
        for group in {g.id: g for g in mine}.values():
            blocks.append(Paragraph((group.child_ref, due.get(group.id or 0, ""))))
            blocks.append(
                Buttons(
                    (
                        Button(
                            t("home.start", lang),
                            "reflect.start",
                            str(group.id),
                            spoken=t("home.start_spoken", lang, child_ref=group.child_ref),
                        ),
                    )
                )
            )
    return [Home(actor.user_id, Message(text=title, blocks=tuple(blocks)))]
