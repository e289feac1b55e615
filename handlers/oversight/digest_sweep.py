"""The monthly digest in the scheduler's sweep: one ledger row per organisation and month,
planned on the month's first working day and rendered when it is sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.oversight.digest import monthly_digest_intents, parse_month, previous_month
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Outgoing,
    PlanningPass,
    Send,
    calendar_for,
)
from storage.ledger import Planned
from storage.models import Delivery, Organisation, OrgRole, StaffRole


def digest_key(org_id: int, month: date) -> str:
    """The delivery ledger key of one month's digest for one organisation."""
    return f"digest:{org_id}:{month:%Y-%m}"


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
