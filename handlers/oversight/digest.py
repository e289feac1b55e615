"""The Lead Officer's monthly digest: anonymised counts and trends across an organisation.

Seed 004: the Lead Officer sees themes, not children. The digest is built from ids, choices,
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
    Block,
    Context,
    Direct,
    Fields,
    Heading,
    Intent,
    Message,
    Paragraph,
    Reply,
    Strong,
)
from handlers.base.wording import CHOICE_LABELS
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Outgoing,
    PlanningPass,
    Send,
    calendar_for,
)
from handlers.scheduling.due import DEFAULT_RULES
from handlers.scheduling.group_state import supervision_state
from prompts.render import escape_markdown
from prompts.schema import Question
from prompts.themes import load_themes
from storage.ledger import Planned
from storage.models import (
    AgreedPosition,
    CoreGroup,
    Delivery,
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


# ---- the view: only numbers that may be shown ------------------------------------------------


@dataclass(frozen=True)
class Count:
    """A count as it may be shown: ``value`` is None when it was below the minimum."""

    value: int | None
    min_count: int

    @classmethod
    def of(cls, n: int, min_count: int) -> Count:
        # A minimum of 1 turns suppression off (zero is then shown as it is).
        return cls(n if n >= min_count or min_count <= 1 else None, min_count)

    @property
    def text(self) -> str:
        return str(self.value) if self.value is not None else f"fewer than {self.min_count}"


def trend(now: Count, before: Count) -> str:
    """↑, ↓ or → when both months can be shown; nothing when either is suppressed."""
    if now.value is None or before.value is None:
        return ""
    return "↑" if now.value > before.value else "↓" if now.value < before.value else "→"


@dataclass(frozen=True)
class ThemeRow:
    label: str
    this_month: Count
    last_month: Count

    @property
    def trend(self) -> str:
        return trend(self.this_month, self.last_month)


@dataclass(frozen=True)
class Rates:
    """Percentages of Yes / No / Not sure, given only when the base is big enough."""

    base: Count
    percentages: tuple[tuple[str, int], ...]

    @property
    def text(self) -> str:
        if self.base.value is None:
            return f"not shown: {self.base.text} answers"
        return " · ".join(f"{pct}% {label}" for label, pct in self.percentages)


@dataclass(frozen=True)
class RateRow:
    headline: str
    agreed: Rates  # one per supervision: the group's agreed position
    members: Rates  # every member's own answer


@dataclass(frozen=True)
class DigestView:
    month: date
    month_text: str
    last_month_text: str
    min_count: int
    supervisions: Count
    supervisions_last_month: Count
    escalations: Count
    escalations_last_month: Count
    overdue_now: Count
    themes: tuple[ThemeRow, ...]
    rates: tuple[RateRow, ...]

    @property
    def supervisions_trend(self) -> str:
        return trend(self.supervisions, self.supervisions_last_month)

    @property
    def escalations_trend(self) -> str:
        return trend(self.escalations, self.escalations_last_month)

    @property
    def suppression_note(self) -> str:
        return (
            f"Counts below {self.min_count} are shown as \u201cfewer than {self.min_count}\u201d "
            "and rates need at least that many answers, so no child can be recognised. "
            "No child, person or core group is named."
        )


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
    known = load_themes()
    now_themes, last_themes = _theme_counts(this_rows, known), _theme_counts(last_rows, known)
    labels = [*known.items(), (WRITTEN_IN, WRITTEN_IN)]
    themes = tuple(
        ThemeRow(label, Count.of(now_themes[key], floor), Count.of(last_themes[key], floor))
        for key, label in labels
    )

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
        questions = _yes_no(core, set_id, org.language)
        prefix = "" if len(used_sets) == 1 else f"{core.sets.get(set_id, org.language).title}: "
        for q in questions:
            key = (set_id, q.id)
            rates.append(
                RateRow(
                    prefix + q.headline,
                    _percentages(agreed.get(key, Counter()), floor),
                    _percentages(members.get(key, Counter()), floor),
                )
            )

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


# ---- showing ---------------------------------------------------------------------------------


def digest_markdown(view: DigestView) -> str:
    """The digest as Markdown (the CLI prints this); set wording is escaped like any text."""
    e = escape_markdown
    out = [
        f"# Lead Officer digest · {e(view.month_text)}",
        "",
        f"- **Supervisions held:** {view.supervisions.text} "
        f"({e(view.last_month_text)}: {view.supervisions_last_month.text}) "
        f"{view.supervisions_trend}".rstrip(),
        f"- **Overdue supervisions now:** {view.overdue_now.text}",
        f"- **Escalations to line managers:** {view.escalations.text} "
        f"({e(view.last_month_text)}: {view.escalations_last_month.text}) "
        f"{view.escalations_trend}".rstrip(),
        "",
        "## Themes",
        "",
        f"| Theme | {e(view.month_text)} | {e(view.last_month_text)} | Trend |",
        "|---|---|---|---|",
    ]
    for row in view.themes:
        out.append(
            f"| {e(row.label)} | {row.this_month.text} | {row.last_month.text} | {row.trend} |"
        )
    out += ["", "## Yes/No answers", ""]
    if not view.rates:
        out.append("_No supervisions with Yes/No questions this month._")
    for rate in view.rates:
        out.append(f"- **{e(rate.headline)}**  ")
        out.append(f"  Agreed positions: {rate.agreed.text}  ")
        out.append(f"  Members' answers: {rate.members.text}")
    out += ["", f"_{e(view.suppression_note)}_", ""]
    return "\n".join(out)


def digest_message(view: DigestView) -> Message:
    """The digest in chat: neutral blocks, so each platform escapes it."""
    head = f"Lead Officer digest · {view.month_text}"
    blocks: list[Block] = [
        Heading(head),
        Fields(
            (
                (
                    "Supervisions held",
                    f"{view.supervisions.text} ({view.last_month_text}: "
                    f"{view.supervisions_last_month.text}) {view.supervisions_trend}".rstrip(),
                ),
                ("Overdue supervisions now", view.overdue_now.text),
                (
                    "Escalations to line managers",
                    f"{view.escalations.text} ({view.last_month_text}: "
                    f"{view.escalations_last_month.text}) {view.escalations_trend}".rstrip(),
                ),
            )
        ),
        Paragraph((Strong("Themes"), f" ({view.month_text}, then {view.last_month_text})")),
        Fields(
            tuple(
                (
                    row.label,
                    f"{row.this_month.text} · {row.last_month.text} {row.trend}".rstrip(),
                )
                for row in view.themes
            )
        ),
        Paragraph((Strong("Yes/No answers"),)),
    ]
    if not view.rates:
        blocks.append(Paragraph(("No supervisions with Yes/No questions this month.",)))
    for rate in view.rates:
        blocks.append(
            Paragraph(
                (
                    Strong(rate.headline),
                    f"\nAgreed positions: {rate.agreed.text}",
                    f"\nMembers' answers: {rate.members.text}",
                )
            )
        )
    blocks.append(Context((view.suppression_note,)))
    text = (
        f"{head}: {view.supervisions.text} supervisions held, "
        f"{view.overdue_now.text} overdue now, {view.escalations.text} escalations."
    )
    return Message(text=text, blocks=tuple(blocks))


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


def digest_key(org_id: int, month: date) -> str:
    """The delivery ledger key of one month's digest for one organisation."""
    return f"digest:{org_id}:{month:%Y-%m}"


# ---- the sweep: one ledger row per organisation and month ------------------------------------

KIND_DIGEST = "digest"
PLAN_WITHIN_DAYS = 7  # a deployment started later in the month does not send last month's


async def plan_digests(s: AsyncSession, now: datetime) -> list[Planned]:
    """Last month's digest for each organisation with a Lead Officer, due at the opening of
    this month's first working day (the key carries the month reported on: ids and dates only).
    """
    org_ids = set(
        await s.exec(select(StaffRole.org_id).where(StaffRole.role == OrgRole.LEAD_OFFICER))
    )
    out: list[Planned] = []
    for org_id in sorted(org_ids):
        org = await s.get(Organisation, org_id)
        if org is None:
            continue
        cal = calendar_for(org)
        today = cal.local_date(now)
        first_working = cal.working_day_on_or_after(date(today.year, today.month, 1))
        due = cal.opening(first_working)
        if now < due or (today - first_working).days > PLAN_WITHIN_DAYS:
            continue
        month = previous_month(today)
        out.append(Planned(digest_key(org_id, month), org_id, KIND_DIGEST, due))
    return out


def month_of_key(key: str) -> date:
    """The month a digest row reports on, read back from its key."""
    return parse_month(key.rsplit(":", 1)[-1])


async def render_digest(core: Core, org: Organisation, row: Delivery) -> Send | Drop:
    """At send time: the digest as it stands, to the Lead Officers there are now."""
    intents = await monthly_digest_intents(core, org.id or 0, month_of_key(row.key))
    if not intents:
        return Drop("no lead officer")
    return Send(org.platform, org.external_id, f"digest:{org.id}", intents)


async def _plan_digest_rows(run: PlanningPass) -> list[Planned]:
    return await plan_digests(run.s, run.now)


async def _render_digest_row(out: Outgoing) -> Decision:
    return await render_digest(out.core, out.org, out.row)


# The sweep plans and sends it with the scheduling kinds (bot/sweeper.py). A dry run lists the
# digest rows already in the ledger but plans none (only a real sweep plans the month's).
MONTHLY_DIGEST = DeliveryKind(
    KIND_DIGEST, plan=_plan_digest_rows, render=_render_digest_row, previewed=False
)
