"""One report to each Lead Officer when a group's supervision is long overdue (four weeks):
which group, how late, who facilitates; never the child.

The rule (:func:`report_due`), the days it can change (:func:`changes_on`, for the planner's
bookmark), the ledger rows (:func:`plan`) and the message (:func:`render`) live together here.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.i18n import language_for
from handlers.base.messages import Direct, Mention, Message, Paragraph, spans_text
from handlers.base.wording import t_spans
from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Outgoing,
    PlanningPass,
    Send,
    SupervisionState,
    facilitator_mention,
)
from handlers.scheduling.due import Rules, report_day
from handlers.scheduling.group_state import checked_groups, supervision_state
from storage.ledger import Planned
from storage.models import CoreGroup, Organisation, OrgRole, StaffRole

KIND_REPORT = "report"


def report_key(group_id: int, due_on: date, staff_role_id: int) -> str:
    return f"{KIND_REPORT}:{group_id}:{due_on.isoformat()}:{staff_role_id}"


def report_due(state: SupervisionState, cal: WorkCalendar, rules: Rules) -> bool:
    """Pure: overdue long enough to tell the Lead Officer (from the working day it is four
    weeks late until nudging has ended), and no session under way."""
    if state.due is None or state.under_way:
        return False
    report_on = cal.working_day_on_or_after(report_day(state.due, rules))
    return report_on <= state.today <= state.due.on + timedelta(days=rules.last_overdue_day + 7)


def changes_on(
    group: CoreGroup, state: SupervisionState, cal: WorkCalendar, rules: Rules
) -> list[date]:
    """The days :func:`report_due` can answer differently: the window opening and closing."""
    if state.due is None:
        return []
    return [
        cal.working_day_on_or_after(report_day(state.due, rules)),
        state.due.on + timedelta(days=rules.last_overdue_day + 8),
    ]


async def plan(run: PlanningPass) -> list[Planned]:
    """A report row per Lead Officer of the organisation, for each group looked at that is due
    one (the key names the occurrence, so each is reported once)."""
    out: list[Planned] = []
    officers: dict[int, list[StaffRole]] = {}
    for c in await checked_groups(run):
        if c.state.due is None or not report_due(c.state, c.cal, run.rules):
            continue
        if c.group.org_id not in officers:
            officers[c.group.org_id] = await _lead_officers(run.s, c.org)
        when = c.cal.next_open(run.now)
        for officer in officers[c.group.org_id]:
            key = report_key(c.group_id, c.state.due.on, officer.id or 0)
            out.append(Planned(key, c.org.id or 0, KIND_REPORT, when, group_id=c.group_id))
    return out


async def _lead_officers(s: AsyncSession, org: Organisation) -> list[StaffRole]:
    rows = await s.exec(
        select(StaffRole).where(
            col(StaffRole.org_id) == org.id, col(StaffRole.role) == OrgRole.LEAD_OFFICER
        )
    )
    return list(rows)


async def render(out: Outgoing) -> Decision:
    """Still a Lead Officer, and the occurrence still reportable: the DM."""
    s, org, row = out.s, out.org, out.row
    group = await s.get(CoreGroup, row.group_id) if row.group_id else None
    if group is None or group.id is None:
        return Drop("group gone")
    staff_role_id = int(row.key.rsplit(":", 1)[1])
    officer = await s.get(StaffRole, staff_role_id)
    if officer is None or officer.org_id != org.id or officer.role != OrgRole.LEAD_OFFICER:
        return Drop("no longer a lead officer")
    state = await supervision_state(s, group, out.cal, out.now, out.rules)
    if (
        state.due is None
        or not report_due(state, out.cal, out.rules)
        or not row.key.startswith(f"{KIND_REPORT}:{group.id}:{state.due.on.isoformat()}:")
    ):
        return Drop("superseded")
    days = (state.today - state.due.on).days
    lang = await language_for(s, org, officer.user_id)
    message = report_message(group.id, days, await facilitator_mention(s, group, lang), lang)
    return Send(
        org.platform, org.external_id, f"user:{officer.user_id}", [Direct(officer.user_id, message)]
    )


def report_message(
    group_id: int, days_overdue: int, facilitator: Mention, lang: str = "en"
) -> Message:
    """For the Lead Officer: which group, how late, who facilitates. Never the child."""
    spans = t_spans(
        "nudge.lead_report", lang, group_id=group_id, days=days_overdue, facilitator=facilitator
    )
    return Message(text=spans_text(spans), blocks=(Paragraph(spans),))


KIND = DeliveryKind(KIND_REPORT, plan=plan, render=render, changes_on=changes_on)
