"""Forgetting on schedule: the retention rules, run by `coregroup privacy purge` and the sweep.

What goes, and when (every period counts from the moment named, in days):

- members' answers and comments: ``answer_days`` after the record is final (or the session was
  cancelled). The record itself stays: agreed positions, notes, actions, themes, and who took
  part (each participation keeps only its attendance).
- the whole session (record included): ``record_days`` after it closed, per the organisation's
  retention schedule.
- an ended core group (its child reference, its members and anything of its still kept):
  ``record_days`` after the plan ended (``/reflect end``; the clock starts then, and stops again
  if the group is resumed). A group that has not ended is kept.
- audit events: ``audit_days`` after they happened. The chain stays verifiable because the purge
  appends an ``audit.purged`` event naming the hash the oldest kept event links to.
- dedupe keys of inbound deliveries after ``inbound_days``; sent (or unconfirmed, dead, cancelled)
  scheduler ledger rows after ``delivery_days``.

Every purge that removes something is itself audited (counts and ids only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    AuditEvent,
    CoreGroup,
    Delivery,
    GroupStatus,
    InboundSeen,
    Member,
    MessageRef,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

FINISHED_DELIVERIES = ("sent", "unconfirmed", "dead", "cancelled")
SYSTEM_ACTOR = "system:retention"


@dataclass(frozen=True)
class Policy:
    """Retention periods in days (``None`` keeps that kind of data for ever)."""

    answer_days: int | None = 90
    record_days: int | None = 2555
    audit_days: int | None = 2920
    inbound_days: int = 7
    delivery_days: int | None = 90

    @classmethod
    def of(cls, core: Core) -> Policy:
        """The deployment's policy, as configured on the handler core."""
        return cls(
            answer_days=core.answer_retention_days,
            record_days=core.record_retention_days,
            audit_days=core.audit_retention_days,
            delivery_days=core.delivery_retention_days,
        )


@dataclass
class PurgeReport:
    """How many rows each rule removed (or would remove, on a dry run)."""

    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _before(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


async def purge(
    core: Core, now: datetime, policy: Policy | None = None, *, dry_run: bool = False
) -> PurgeReport:
    """Apply every retention rule as of ``now`` in one transaction (rolled back on a dry run)."""
    policy = policy or Policy.of(core)
    report = PurgeReport(dry_run=dry_run)
    try:
        async with core.db.write() as s:
            await _purge_records(s, report, _before(now, policy.record_days))
            await _purge_ended_groups(s, report, _before(now, policy.record_days))
            await _purge_answers(s, report, _before(now, policy.answer_days))
            await _purge_ledgers(s, report, now, policy)
            await _purge_audit(s, report, _before(now, policy.audit_days), now)
            if dry_run:
                raise _DryRun()  # counted, then rolled back
            if report.total:
                await audit.record(
                    s,
                    org_id=None,
                    actor=SYSTEM_ACTOR,
                    action="retention.purged",
                    at=now,
                    counts=report.counts,
                )
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Raised inside the transaction to roll back a dry run."""


def _ended_before(cutoff: datetime) -> ColumnElement[bool]:
    """Sessions whose record is final, or that were cancelled, before ``cutoff``."""
    return (
        col(ReflectionSession.status).in_((SessionStatus.CLOSED, SessionStatus.CANCELLED))
        & col(ReflectionSession.closed_at).is_not(None)
        & (col(ReflectionSession.closed_at) <= cutoff)
    )


async def _purge_answers(s: AsyncSession, report: PurgeReport, cutoff: datetime | None) -> None:
    if cutoff is None:
        return
    session_ids = list(await s.exec(select(ReflectionSession.id).where(_ended_before(cutoff))))
    if not session_ids:
        return
    answers = list(await s.exec(select(Answer).where(col(Answer.session_id).in_(session_ids))))
    if not answers:
        return
    # Keep who took part (a field of the record) before the answers that show it go.
    answered = {(a.session_id, a.member_id) for a in answers if not a.skipped}
    parts = await s.exec(
        select(Participation).where(col(Participation.session_id).in_(session_ids))
    )
    for p in parts:
        if p.attended is None:
            p.attended = (
                p.session_id,
                p.member_id,
            ) in answered or p.state == ParticipationState.DONE
        p.pending_question = None
        p.pending_kind = None
        s.add(p)
    await s.flush()
    await s.exec(delete(Answer).where(col(Answer.session_id).in_(session_ids)))
    report.add("answers", len(answers))


async def delete_sessions(s: AsyncSession, session_ids: list[int]) -> int:
    """Remove sessions and everything hanging off them (also used by erasure)."""
    if not session_ids:
        return 0
    action_ids = list(
        await s.exec(select(ActionItem.id).where(col(ActionItem.session_id).in_(session_ids)))
    )
    part_ids = list(
        await s.exec(select(Participation.id).where(col(Participation.session_id).in_(session_ids)))
    )
    stale: ColumnElement[bool] = col(Delivery.session_id).in_(session_ids)
    if action_ids:
        stale = stale | col(Delivery.action_id).in_(action_ids)
    await s.exec(delete(Delivery).where(stale))
    keys = [f"progress:{i}" for i in session_ids] + [f"dlg:{i}" for i in part_ids]
    await s.exec(delete(MessageRef).where(col(MessageRef.key).in_(keys)))
    for table, column in (
        (Answer, Answer.session_id),
        (Participation, Participation.session_id),
        (AgreedPosition, AgreedPosition.session_id),
        (ActionItem, ActionItem.session_id),
    ):
        await s.exec(delete(table).where(col(column).in_(session_ids)))
    await s.exec(delete(ReflectionSession).where(col(ReflectionSession.id).in_(session_ids)))
    return len(session_ids)


async def _purge_records(s: AsyncSession, report: PurgeReport, cutoff: datetime | None) -> None:
    if cutoff is None:
        return
    ids = [
        i
        for i in await s.exec(select(ReflectionSession.id).where(_ended_before(cutoff)))
        if i is not None
    ]
    if ids:
        report.add("sessions", await delete_sessions(s, ids))


async def _purge_ended_groups(
    s: AsyncSession, report: PurgeReport, cutoff: datetime | None
) -> None:
    """Groups whose plan ended ``record_days`` ago go, with whatever of theirs is left."""
    if cutoff is None:
        return
    group_ids = [
        i
        for i in await s.exec(
            select(CoreGroup.id).where(
                col(CoreGroup.status) == GroupStatus.ENDED,
                col(CoreGroup.ended_at).is_not(None),
                col(CoreGroup.ended_at) <= cutoff,
            )
        )
        if i is not None
    ]
    if not group_ids:
        return
    sessions = await s.exec(
        select(ReflectionSession.id).where(col(ReflectionSession.group_id).in_(group_ids))
    )
    await delete_sessions(s, [i for i in sessions if i is not None])
    member_ids = list(await s.exec(select(Member.id).where(col(Member.group_id).in_(group_ids))))
    await s.exec(
        delete(Delivery).where(
            col(Delivery.group_id).in_(group_ids) | col(Delivery.member_id).in_(member_ids)
        )
    )
    await s.exec(delete(ActionItem).where(col(ActionItem.group_id).in_(group_ids)))
    await s.exec(delete(Member).where(col(Member.group_id).in_(group_ids)))
    await s.exec(delete(CoreGroup).where(col(CoreGroup.id).in_(group_ids)))
    report.add("groups", len(group_ids))


async def _purge_ledgers(s: AsyncSession, report: PurgeReport, now: datetime, p: Policy) -> None:
    seen = await s.exec(
        delete(InboundSeen).where(col(InboundSeen.seen_at) < now - timedelta(days=p.inbound_days))
    )
    report.add("inbound_seen", seen.rowcount or 0)
    if p.delivery_days is None:
        return
    done = await s.exec(
        delete(Delivery).where(
            col(Delivery.status).in_(FINISHED_DELIVERIES),
            col(Delivery.due_at) < now - timedelta(days=p.delivery_days),
            (col(Delivery.sent_at).is_(None))
            | (col(Delivery.sent_at) < now - timedelta(days=p.delivery_days)),
        )
    )
    report.add("deliveries", done.rowcount or 0)


async def _purge_audit(
    s: AsyncSession, report: PurgeReport, cutoff: datetime | None, now: datetime
) -> None:
    if cutoff is None:
        return
    old = list(
        await s.exec(
            select(AuditEvent.id).where(col(AuditEvent.at) < cutoff).order_by(col(AuditEvent.id))
        )
    )
    if not old:
        return
    last_old = old[-1]
    kept = (
        await s.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_old).order_by(col(AuditEvent.id))
        )
    ).first()
    await s.exec(delete(AuditEvent).where(col(AuditEvent.id) <= last_old))
    report.add("audit_events", len(old))
    # The oldest kept event links to a hash that is gone; name it in the chain itself so
    # verification can start there (and editing this anchor breaks the chain too).
    anchor = kept.prev_hash if kept is not None else ""
    await audit.record(
        s,
        org_id=None,
        actor=SYSTEM_ACTOR,
        action="audit.purged",
        at=now,
        before=cutoff.isoformat(),
        deleted=len(old),
        anchor=anchor,
        first_kept=kept.id if kept is not None else None,
    )


def verify_log(events: list[AuditEvent]) -> int | None:
    """Verify the whole audit log, ordered by id: the first bad event's id, or None."""
    broken = check_log(events)
    return None if broken is None else broken.event_id


def check_log(events: list[AuditEvent]) -> audit.Break | None:
    """Verify the whole audit log, ordered by id: where and why it breaks, or None.

    After a retention purge the oldest kept event links to a deleted one; that link is trusted
    only if a later (itself chained) ``audit.purged`` event names it as its anchor.
    """
    if not events:
        return None
    first = events[0]
    start = ""
    if first.prev_hash:
        anchors = {
            (e.detail.get("anchor"), e.detail.get("first_kept"))
            for e in events
            if e.action == "audit.purged" and e.actor == SYSTEM_ACTOR
        }
        if (first.prev_hash, first.id) not in anchors:
            return audit.Break(first.id, "the start of the log was deleted outside retention")
        start = first.prev_hash
    return audit.find_break(events, start)
