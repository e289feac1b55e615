"""A person's home view: reflections waiting for them, their core groups, facilitator shortcuts."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
    GroupStatus,
    Member,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
)

# Groups per section on one page: with the waiting reflections the view stays well inside
# Slack's 100 blocks, and every group's Start button is reachable through "Show more".
PAGE = 20
PENDING_SHOWN = 10
PAGE_ACTION = "home_page"


async def home_view(core: Core, actor: Actor, page: int = 0) -> list[Intent]:
    """The person's home; ``page`` counts pages of their groups (``PAGE`` per section)."""
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
                    Member.active == True,  # noqa: E712
                    col(Participation.state) != ParticipationState.LEFT,
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
        ended = await ended_groups(s, org, actor.user_id)
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
    blocks += _waiting(pending, org.timezone, lang)
    mine_first = sorted(groups, key=lambda gm: (gm[0].child_ref.casefold(), gm[0].id or 0))
    seen = {g.id or 0 for g, _m in groups}
    leading = [g for g in facilitating if (g.id or 0) not in seen] + [
        g for g, m in groups if m.role == "facilitator"
    ]
    mine = sorted(
        {g.id: g for g in leading}.values(), key=lambda g: (g.child_ref.casefold(), g.id or 0)
    )
    pages = max(1, -(-max(len(mine_first), len(mine)) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = slice(page * PAGE, (page + 1) * PAGE)
    blocks += _my_groups(mine_first[shown], bool(groups), due, lang)
    blocks += _facilitating(mine[shown], due, lang)
    blocks += _ended_blocks(ended, cal.local_date(core.now()), lang)
    blocks += _pager(page, pages, max(len(mine_first), len(mine)), lang)
    return [Home(actor.user_id, Message(text=title, blocks=tuple(blocks)))]


def _waiting(
    pending: list[tuple[Participation, ReflectionSession, CoreGroup]], tz: str, lang: str
) -> list[Block]:
    blocks: list[Block] = [Paragraph((Strong(t("home.waiting", lang)),))]
    if not pending:
        blocks.append(Context((t("home.nothing_waiting", lang),)))
    for part, session, group in pending[:PENDING_SHOWN]:
        until = local_deadline(session.closes_at, tz, lang)
        blocks.append(
            Paragraph(
                (
                    t("home.reflection_for", lang, child_ref=group.child_ref),
                    " · " + t("home.open_until", lang, closes_at=until) if until else "",
                )
            )
        )
        spoken = t("home.continue_spoken", lang, child_ref=group.child_ref)
        button = Button(t("home.continue", lang), "home.continue", str(part.id), "primary", spoken)
        blocks.append(Buttons((button,)))
    if len(pending) > PENDING_SHOWN:
        more = len(pending) - PENDING_SHOWN
        blocks.append(Context((t("home.more_waiting", lang, count=more),)))
    return blocks


def _my_groups(
    groups: list[tuple[CoreGroup, Member]], any_group: bool, due: dict[int, str], lang: str
) -> list[Block]:
    blocks: list[Block] = [Paragraph((Strong(t("home.my_groups", lang)),))]
    for group, member in groups:
        agency = f" · {member.agency}" if member.agency else ""
        blocks.append(Paragraph((group.child_ref, agency, due.get(group.id or 0, ""))))
    if not any_group:
        blocks.append(Context((t("home.no_group", lang),)))
    return blocks


def _facilitating(mine: list[CoreGroup], due: dict[int, str], lang: str) -> list[Block]:
    if not mine:
        return []
    blocks: list[Block] = [Paragraph((Strong(t("home.facilitating", lang)),))]
    for group in mine:
        blocks.append(Paragraph((group.child_ref, due.get(group.id or 0, ""))))
        spoken = t("home.start_spoken", lang, child_ref=group.child_ref)
        start = Button(t("home.start", lang), "reflect.start", str(group.id), spoken=spoken)
        blocks.append(Buttons((start,)))
    return blocks


def _pager(page: int, pages: int, total: int, lang: str) -> list[Block]:
    """Where this page sits among all the groups, and the way to the others."""
    if pages <= 1:
        return []
    first, last = page * PAGE + 1, min((page + 1) * PAGE, total)
    buttons: list[Button] = []
    if page + 1 < pages:
        buttons.append(Button(t("home.show_more", lang), PAGE_ACTION, str(page + 1)))
    if page > 0:
        buttons.append(Button(t("home.back_to_start", lang), PAGE_ACTION, "0"))
    said = t("home.showing", lang, first=first, last=last, total=total)
    return [Context((said,)), Buttons(tuple(buttons))]


async def ended_groups(s: AsyncSession, org: Organisation, user_id: str) -> list[CoreGroup]:
    """Ended groups the person led or belonged to when the plan ended."""
    rows = await s.exec(
        select(CoreGroup)
        .join(Member, col(Member.group_id) == col(CoreGroup.id), isouter=True)
        .where(
            CoreGroup.org_id == org.id,
            CoreGroup.status == GroupStatus.ENDED,
            (col(CoreGroup.facilitator_id) == user_id)
            | ((col(Member.user_id) == user_id) & (col(Member.active) == True)),  # noqa: E712
        )
        .distinct()
    )
    return list(rows)


def _ended_blocks(groups: list[CoreGroup], today: date, lang: str) -> list[Block]:
    if not groups:
        return []
    blocks: list[Block] = [Paragraph((Strong(t("lifecycle.home_ended", lang)),))]
    for group in groups:
        when = ""
        if group.ended_at is not None:
            day = short_date(group.ended_at.date(), today, lang)
            when = " · " + t("lifecycle.home_ended_on", lang, date=day)
        blocks.append(Paragraph((group.child_ref, when)))
    return blocks
