"""The delivery ledger: the scheduler's queue, one ``Delivery`` row per nudge or reminder.

A row's ``key`` is unique, so planning the same nudge twice (two sweeps, two instances) inserts
it once. Rows are claimed with a lease: PostgreSQL shares due rows between instances with
``FOR UPDATE SKIP LOCKED``; SQLite claims inside its serialised ``BEGIN IMMEDIATE`` write. A
sender that dies mid-send leaves its rows ``sending``; when the lease runs out another sweep
takes them again, so nothing is lost (a rare duplicate beats a silent miss).

Statuses: pending → sending → sent, or back to pending (retry), or dead after
``MAX_ATTEMPTS``; cancelled when the schedule changed before it went out; unconfirmed when
the request left but no answer came (a timeout): the platform may have shown it, so it is not
sent again — at most once, never twice (README, "Delivery").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import Delivery

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
CANCELLED = "cancelled"
UNCONFIRMED = "unconfirmed"

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


@dataclass(frozen=True)
class Planned:
    """A ledger row to insert if its key is new. Ids only: nothing here is personal data."""

    key: str
    org_id: int
    kind: str
    due_at: datetime
    group_id: int | None = None
    session_id: int | None = None
    member_id: int | None = None
    action_id: int | None = None

    def values(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "org_id": self.org_id,
            "kind": self.kind,
            "due_at": self.due_at,
            "group_id": self.group_id,
            "session_id": self.session_id,
            "member_id": self.member_id,
            "action_id": self.action_id,
            "status": PENDING,
            "attempts": 0,
        }


async def insert_new(s: AsyncSession, rows: Sequence[Planned]) -> int:
    """Insert the rows whose key is not in the ledger yet (any status); returns how many."""
    if not rows:
        return 0
    bind = s.get_bind()
    dialect_insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(Delivery)
        .values([r.values() for r in rows])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(Delivery.id))
    )
    result = await s.exec(stmt)
    return len(result.all())


PLANNING_LOCK = 0x636F7265  # an arbitrary constant naming the planner's advisory lock


async def planning_turn(s: AsyncSession) -> bool:
    """Whether this transaction may plan now. On PostgreSQL one instance plans at a time (a
    transaction-level advisory lock, released at commit; safe with pooled connections);
    SQLite writes are serialised already."""
    if s.get_bind().dialect.name != "postgresql":
        return True
    got = await s.exec(select(func.pg_try_advisory_xact_lock(PLANNING_LOCK)))
    return bool(got.one())


async def existing_keys(s: AsyncSession, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    if not wanted:
        return set()
    rows = await s.exec(select(Delivery.key).where(col(Delivery.key).in_(wanted)))
    return set(rows)


async def cancel_pending(
    s: AsyncSession, *, kind: str, group_id: int, keep: Iterable[str] = ()
) -> int:
    """Cancel a group's unsent rows of one kind, except ``keep`` (a date moved, a snooze)."""
    stmt = (
        update(Delivery)
        .where(
            col(Delivery.kind) == kind,
            col(Delivery.group_id) == group_id,
            col(Delivery.status) == PENDING,
            col(Delivery.key).not_in(list(keep)),
        )
        .values(status=CANCELLED)
    )
    result: Any = await s.exec(stmt)
    return int(result.rowcount or 0)


def _claimable(now: datetime) -> Any:
    return or_(
        and_(col(Delivery.status) == PENDING, col(Delivery.due_at) <= now),
        and_(col(Delivery.status) == SENDING, col(Delivery.lease_until) < now),
    )


async def claim(
    db: Database, now: datetime, *, limit: int = 50, lease: timedelta = LEASE
) -> list[Delivery]:
    """Take up to ``limit`` due rows for this sender: status sending, a lease, one more attempt.

    On PostgreSQL rows locked by another instance's claim are skipped, not waited for.
    """
    async with db.write() as s:
        due = (
            select(Delivery.id)
            .where(_claimable(now))
            .order_by(col(Delivery.due_at), col(Delivery.id))
            .limit(limit)
        )
        if not db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        ids = list(await s.exec(due))
        if not ids:
            return []
        await s.exec(
            update(Delivery)
            .where(col(Delivery.id).in_(ids), _claimable(now))
            .values(status=SENDING, lease_until=now + lease, attempts=Delivery.attempts + 1)
        )
        rows = await s.exec(
            select(Delivery)
            .where(col(Delivery.id).in_(ids), col(Delivery.status) == SENDING)
            .order_by(col(Delivery.due_at), col(Delivery.id))
        )
        return list(rows)


async def due_now(db: Database, now: datetime, *, limit: int = 200) -> list[Delivery]:
    """What a sweep would claim, without claiming it (for ``remind --dry-run``)."""
    async with db.read() as s:
        rows = await s.exec(
            select(Delivery)
            .where(_claimable(now))
            .order_by(col(Delivery.due_at), col(Delivery.id))
            .limit(limit)
        )
        return list(rows)


def _ours(row: Delivery) -> Any:
    # The claim we hold: a sender whose lease ran out and was re-claimed must not overwrite.
    return and_(
        col(Delivery.id) == row.id,
        col(Delivery.status) == SENDING,
        col(Delivery.attempts) == row.attempts,
    )


async def mark_sent(db: Database, row: Delivery, now: datetime, sent_ref: str | None) -> None:
    async with db.write() as s:
        await s.exec(
            update(Delivery)
            .where(_ours(row))
            .values(status=SENT, sent_at=now, sent_ref=(sent_ref or "")[:200], lease_until=None)
        )


async def mark_failed(
    db: Database, row: Delivery, now: datetime, reason: str, retry_after: float | None = None
) -> str:
    """Back to pending, later (Retry-After, or backoff); dead after ``MAX_ATTEMPTS``.

    ``reason`` must be safe to store and log (the platform's error code, never content).
    Returns the new status.
    """
    values: dict[str, Any] = {"lease_until": None, "last_error": reason[:200]}
    if retry_after is not None:
        # Rate limited: the platform said when to come back; that is not a failed attempt.
        status = PENDING
        values.update(
            due_at=now + timedelta(seconds=max(retry_after, 1.0)),
            attempts=Delivery.attempts - 1,
        )
    elif row.attempts >= MAX_ATTEMPTS:
        status = DEAD
        log.error(
            "delivery dead-lettered",
            extra={"delivery_id": row.id, "kind": row.kind, "attempts": row.attempts},
        )
    else:
        status = PENDING
        wait = min(BACKOFF_FIRST * (2 ** max(row.attempts - 1, 0)), BACKOFF_MAX)
        values.update(due_at=now + wait)
    async with db.write() as s:
        await s.exec(update(Delivery).where(_ours(row)).values(status=status, **values))
    return status


async def mark_unconfirmed(db: Database, row: Delivery, now: datetime, reason: str) -> None:
    """The send may have gone out (no answer came): never again, and say so in the row."""
    async with db.write() as s:
        await s.exec(
            update(Delivery)
            .where(_ours(row))
            .values(status=UNCONFIRMED, sent_at=now, lease_until=None, last_error=reason[:200])
        )
    log.warning("delivery unconfirmed", extra={"delivery_id": row.id, "kind": row.kind})


async def release(db: Database, row: Delivery, due_at: datetime) -> None:
    """Put a claimed row back for later without counting an attempt (paced, rate-limited,
    outside office hours, snoozed)."""
    async with db.write() as s:
        await s.exec(
            update(Delivery)
            .where(_ours(row))
            .values(
                status=PENDING,
                due_at=due_at,
                lease_until=None,
                attempts=Delivery.attempts - 1,
            )
        )


async def cancel(db: Database, row: Delivery) -> None:
    """A claimed row that should no longer go out (the schedule changed under it)."""
    async with db.write() as s:
        await s.exec(update(Delivery).where(_ours(row)).values(status=CANCELLED, lease_until=None))
