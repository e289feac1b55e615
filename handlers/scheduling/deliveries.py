"""What every kind of scheduled delivery shares: its entry in the registry, the planning pass it
plans in, the row it renders at send time, and the answer it gives (send, later, drop).

A kind (``channel_nudges``, ``officer_reports``, ``member_reminders``, ``action_reminders``, the
oversight digest) is one :class:`DeliveryKind`: a planner that says which ledger rows have come
due and a renderer that decides, as a claimed row is about to go out, whether it still applies
and what it says. ``handlers/scheduling/kinds.py`` holds the registry and runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.base.messages import Intent, Mention
from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.due import Due, Rules
from prompts.strings import month_abbrev, t, weekday_abbrev
from storage.ledger import Planned
from storage.models import CoreGroup, Delivery, Member, Organisation


def calendar_for(org: Organisation | None) -> WorkCalendar:
    if org is None:
        return WorkCalendar()
    return WorkCalendar(timezone=org.timezone, nation=org.nation)


def short_date(day: date, today: date | None = None, lang: str = "en") -> str:
    """'Mon 4 Jan' / 'Llun 4 Ion' (with the year when it is not this year's)."""
    text = f"{weekday_abbrev(day, lang)} {day.day} {month_abbrev(day, lang)}"
    if today is not None and day.year != today.year:
        text += f" {day.year}"
    return text


def on_leave(member: Member, today: date) -> bool:
    return member.on_leave_until is not None and member.on_leave_until >= today


async def facilitator_mention(s: AsyncSession, group: CoreGroup, lang: str) -> Mention:
    """The group's facilitator by name (their member row), or "the facilitator"."""
    member = (
        await s.exec(
            select(Member).where(
                col(Member.group_id) == group.id, col(Member.user_id) == group.facilitator_id
            )
        )
    ).first()
    return Mention(
        group.facilitator_id, member.display_name if member else t("nudge.the_facilitator", lang)
    )


# ---- what a renderer answers ------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Deliver these intents; ``pace_key`` groups sends that share a platform rate limit."""

    platform: str
    org_external_id: str
    pace_key: str
    intents: list[Intent]


@dataclass(frozen=True)
class Later:
    """Not now (outside office hours, one nudge a day already sent); try again at ``at``."""

    at: datetime
    why: str


@dataclass(frozen=True)
class Drop:
    """No longer applies (date moved, session closed, member on leave…)."""

    why: str


Decision = Send | Later | Drop


# ---- planning and sending contexts -------------------------------------------------------------


@dataclass(frozen=True)
class SupervisionState:
    """Where a group's supervision stands on one local day (``group_state`` works it out)."""

    due: Due | None  # the occurrence it should be hearing about; None: ended or not yet known
    under_way: bool  # a session is open
    today: date


@dataclass(frozen=True)
class CheckedGroup:
    """A group looked at in this planning pass, with its organisation and state today."""

    group: CoreGroup
    group_id: int
    org: Organisation
    cal: WorkCalendar
    state: SupervisionState


@dataclass
class PlanningPass:
    """One planning pass over the database, shared by every kind planned in it."""

    s: AsyncSession
    now: datetime
    rules: Rules
    dry_run: bool
    kinds: Iterable[DeliveryKind]
    orgs: dict[int, Organisation | None] = field(default_factory=dict)
    # The groups whose bookmark came due, with their state today: looked up once a pass
    # (``group_state.checked_groups``) for every kind that watches groups.
    checked: list[CheckedGroup] | None = None

    async def org(self, org_id: int) -> Organisation | None:
        """An organisation, looked up once a pass."""
        if org_id not in self.orgs:
            self.orgs[org_id] = await self.s.get(Organisation, org_id)
        return self.orgs[org_id]


@dataclass(frozen=True)
class Outgoing:
    """A claimed ledger row about to go out, in its organisation's office hours."""

    core: Core
    s: AsyncSession
    org: Organisation
    cal: WorkCalendar
    row: Delivery
    now: datetime
    rules: Rules


ChangeDays = Callable[[CoreGroup, SupervisionState, WorkCalendar, Rules], list[date]]


@dataclass(frozen=True)
class DeliveryKind:
    """One kind of scheduled delivery: the ledger ``kind`` it plans, and its two halves."""

    name: str
    plan: Callable[[PlanningPass], Awaitable[list[Planned]]]
    render: Callable[[Outgoing], Awaitable[Decision]]
    # Kinds decided per group from its supervision state name every day on which their answer
    # can change, so the planner's bookmark (``group_state.next_check``) never skips one.
    changes_on: ChangeDays | None = None
    # Whether a dry run (``coregroup remind --dry-run``) lists the rows this kind would plan.
    previewed: bool = True


# ---- how rows are shown --------------------------------------------------------------------------


def describe(row: Delivery | Planned) -> str:
    """How a ledger row is shown to operators: kind and ids, never a child or a name."""
    ids = [
        f"{name}={value}"
        for name, value in (
            ("org", row.org_id),
            ("group", row.group_id),
            ("session", row.session_id),
            ("member", row.member_id),
            ("action", row.action_id),
        )
        if value is not None
    ]
    return f"{row.kind} {' '.join(ids)} key={row.key}"


def to_delivery(p: Planned) -> Delivery:
    """A planned row as an unsaved ledger row (dry runs render these)."""
    return Delivery(**p.values())


CHUNK = 500  # ids per IN (…) list: well inside every driver's parameter limit


def chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
