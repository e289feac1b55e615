"""The Lead Officer's monthly digest: anonymised counts and trends across an organisation.

The Lead Officer sees themes, not children. The digest is built from ids, choices,
theme ids and dates only; no child reference, group id, name or free text is ever read into
it (free-text themes are counted under one "written in" line, never shown). Every count below
the minimum (``Core.digest_min_count``, default 5) is shown as "fewer than 5", and rates are
only given when at least that many answers stand behind them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import ensure_org, staff_roles
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.messages import (
    Direct,
    Intent,
    Reply,
)
from handlers.base.wording import CHOICE_LABELS
from handlers.oversight.digest_view import (
    Count,
    DigestView,
    RateRow,
    Rates,
    ThemeRow,
    digest_markdown,
    digest_message,
)
from handlers.scheduling.deliveries import (
    calendar_for,
)
from handlers.scheduling.due import DEFAULT_RULES
from handlers.scheduling.group_state import supervision_state
from prompts.schema import Question
from prompts.themes import load_themes
from storage.models import (
    AgreedPosition,
    CoreGroup,
    GroupStatus,
    Organisation,
    OrgRole,
    ReflectionSession,
    SessionStatus,
    StaffRole,
)
from storage.submitted import submitted_answers

YES_NO = tuple(CHOICE_LABELS.items())  # (value, label) in Yes, No, Not sure order
WRITTEN_IN = "Other (written in)"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# The CLI prints the Markdown view through this module.
__all__ = ["build_digest", "digest_in_chat", "digest_markdown", "digest_message", "parse_month"]


# ---- months ----------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2026-06' -> 1 June 2026; a kind error otherwise."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadInput("Give the month as YYYY-MM, for example 2026-06.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def previous_month(day: date) -> date:
    return _shift(date(day.year, day.month, 1), -1)


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def _start(month: date, tz: ZoneInfo) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=tz).astimezone(UTC)


def _month_text(month: date) -> str:
    return f"{month:%B %Y}"


# ---- building --------------------------------------------------------------------------------


def _percentages(choices: Counter[str], min_count: int) -> Rates:
    total = sum(choices.values())
    base = Count.of(total, min_count)
    if base.value is None:
        return Rates(base, ())
    return Rates(
        base, tuple((label, round(100 * choices[v] / total)) for v, label in YES_NO if total)
    )


@dataclass(frozen=True)
class _Closed:
    """What the digest reads of a closed session: ids, dates, theme ids, a flag. No text."""

    session_id: int
    set_id: str
    closed_at: datetime
    themes: list[str]
    escalated: bool


def _theme_counts(rows: list[_Closed], known: dict[str, str]) -> Counter[str]:
    """Sessions per theme; free-text themes are counted together and never shown."""
    counts: Counter[str] = Counter()
    for r in rows:
        for tag in set(r.themes):
            counts[tag if tag in known else WRITTEN_IN] += 1
    return counts


def _yes_no(core: Core, set_id: str, language: str) -> list[Question]:
    try:
        qset = core.sets.get(set_id, language)
    except KeyError:
        return []
    return [q for q in qset.questions if q.kind == "yes_no" and q.audience == "group"]


async def build_digest(
    core: Core, org_id: int, month: date, *, min_count: int | None = None
) -> DigestView:
    """The digest of one organisation for one calendar month (in its time zone)."""
    floor = max(1, min_count if min_count is not None else core.digest_min_count)
    month = date(month.year, month.month, 1)
    before = _shift(month, -1)
    async with core.db.read() as s:
        org = await s.get(Organisation, org_id)
        if org is None:
            raise NotFound("I couldn't find that organisation.")
        tz = _tz(org.timezone)
        lo, mid, hi = _start(before, tz), _start(month, tz), _start(_shift(month, 1), tz)
        # sqlmodel types select() for at most four columns; this one reads five.
        found = await s.exec(
            select(  # type: ignore[call-overload]
                col(ReflectionSession.id),
                col(ReflectionSession.set_id),
                col(ReflectionSession.closed_at),
                col(ReflectionSession.themes),
                col(ReflectionSession.escalation).is_not(None).label("escalated"),
            )
            .join(CoreGroup, col(CoreGroup.id) == col(ReflectionSession.group_id))
            .where(
                CoreGroup.org_id == org_id,
                ReflectionSession.status == SessionStatus.CLOSED,
                col(ReflectionSession.closed_at) >= lo,
                col(ReflectionSession.closed_at) < hi,
            )
        )
        rows = [
            _Closed(sid or 0, set_id, at, list(tags or []), bool(escalated))
            for sid, set_id, at, tags, escalated in found
            if at is not None
        ]
        this_ids = [r.session_id for r in rows if r.closed_at >= mid]
        positions: list[tuple[int, str, str | None]] = []
        answers: list[tuple[int, str, str | None]] = []
        if this_ids:
            positions = [
                (sid, qid, pos)
                for sid, qid, pos in await s.exec(
                    select(
                        AgreedPosition.session_id,
                        AgreedPosition.question_id,
                        AgreedPosition.position,
                    ).where(col(AgreedPosition.session_id).in_(this_ids))
                )
            ]
            answers = [
                (a.session_id, a.question_id, a.choice)
                for a in await submitted_answers(s, this_ids, chosen_only=True)
            ]
        overdue = await _overdue_now(s, core, org)

    this_rows = [r for r in rows if r.closed_at >= mid]
    last_rows = [r for r in rows if r.closed_at < mid]
    themes = _themes(this_rows, last_rows, floor)
    rates = _rates(core, org.language, this_rows, positions, answers, floor)

    return DigestView(
        month=month,
        month_text=_month_text(month),
        last_month_text=_month_text(before),
        min_count=floor,
        supervisions=Count.of(len(this_rows), floor),
        supervisions_last_month=Count.of(len(last_rows), floor),
        escalations=Count.of(sum(1 for r in this_rows if r.escalated), floor),
        escalations_last_month=Count.of(sum(1 for r in last_rows if r.escalated), floor),
        overdue_now=Count.of(overdue, floor),
        themes=themes,
        rates=tuple(rates),
    )


def _themes(this_rows: list[_Closed], last_rows: list[_Closed], floor: int) -> tuple[ThemeRow, ...]:
    """Sessions per known theme this month and last; written-in themes as one row."""
    known = load_themes()
    now_themes, last_themes = _theme_counts(this_rows, known), _theme_counts(last_rows, known)
    labels = [*known.items(), (WRITTEN_IN, WRITTEN_IN)]
    return tuple(
        ThemeRow(label, Count.of(now_themes[key], floor), Count.of(last_themes[key], floor))
        for key, label in labels
    )


def _rates(
    core: Core,
    language: str,
    this_rows: list[_Closed],
    positions: list[tuple[int, str, str | None]],
    answers: list[tuple[int, str, str | None]],
    floor: int,
) -> list[RateRow]:
    """Yes / No / Not sure rates per group question: agreed positions and members' answers."""
    set_of = {r.session_id: r.set_id for r in this_rows}
    agreed: dict[tuple[str, str], Counter[str]] = {}
    for sid, qid, pos in positions:
        if pos:
            agreed.setdefault((set_of.get(sid, ""), qid), Counter())[pos] += 1
    members: dict[tuple[str, str], Counter[str]] = {}
    for sid, qid, choice in answers:
        if choice:
            members.setdefault((set_of.get(sid, ""), qid), Counter())[choice] += 1
    used_sets = sorted(set(set_of.values()), key=lambda x: (x != "appendix1", x))
    rates: list[RateRow] = []
    for set_id in used_sets:
        questions = _yes_no(core, set_id, language)
        prefix = "" if len(used_sets) == 1 else f"{core.sets.get(set_id, language).title}: "
        for q in questions:
            key = (set_id, q.id)
            rates.append(
                RateRow(
                    prefix + q.headline,
                    _percentages(agreed.get(key, Counter()), floor),
                    _percentages(members.get(key, Counter()), floor),
                )
            )
    return rates


async def _overdue_now(s: AsyncSession, core: Core, org: Organisation) -> int:
    """Active groups whose supervision date has passed today (the scheduler's own rules)."""
    cal = calendar_for(org)
    now = core.now()
    groups = await s.exec(
        select(CoreGroup).where(CoreGroup.org_id == org.id, CoreGroup.status == GroupStatus.ACTIVE)
    )
    overdue = 0
    for group in groups:
        state = await supervision_state(s, group, cal, now, DEFAULT_RULES)
        if state.due is not None and state.due.on < state.today:
            overdue += 1
    return overdue


# ---- in chat and by the scheduler ------------------------------------------------------------


async def digest_in_chat(core: Core, actor: Actor, rest: str) -> list[Intent]:
    """``/reflect digest [YYYY-MM]``: Lead Officers and admins only; this month by default."""
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        roles = await staff_roles(s, org, actor.user_id)
        org_id, tz = org.id or 0, _tz(org.timezone)
    if not roles & {OrgRole.LEAD_OFFICER.value, OrgRole.ADMIN.value}:
        raise NotAllowed(
            "The digest is for the Lead Officer for Child Protection. "
            "If that is you, ask an admin to give you the lead_officer role."
        )
    word = rest.strip()
    today = core.now().astimezone(tz).date()
    month = parse_month(word) if word else date(today.year, today.month, 1)
    view = await build_digest(core, org_id, month)
    return [Reply(digest_message(view))]


async def monthly_digest_intents(core: Core, org_id: int, month: date | str) -> list[Intent]:
    """The scheduled digest for ``month`` (a date in it, or 'YYYY-MM'): a DM to each Lead
    Officer of the organisation; nothing when it has none."""
    first = parse_month(month) if isinstance(month, str) else date(month.year, month.month, 1)
    async with core.db.read() as s:
        officers = sorted(
            set(
                await s.exec(
                    select(StaffRole.user_id).where(
                        StaffRole.org_id == org_id, StaffRole.role == OrgRole.LEAD_OFFICER
                    )
                )
            )
        )
    if not officers:
        return []
    message = digest_message(await build_digest(core, org_id, first))
    return [Direct(user_id, message) for user_id in officers]
