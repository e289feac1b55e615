"""Acknowledged deliveries not yet handled (``inbound_work``): the durable half of an ack.

An adapter writes the row (and the delivery's dedupe key, in the same transaction) before it
answers the platform, and deletes it once the work is done. Each row carries a lease: the
process that wrote or took it owns it until ``lease_until``; after that any instance may take
it again (PostgreSQL shares rows between instances with ``FOR UPDATE SKIP LOCKED``; SQLite
claims inside its serialised ``BEGIN IMMEDIATE`` write). So a process killed after the ack
leaves its work to be done by the next process that looks, not lost.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Text, delete, func, insert, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboundSeen, InboundWork
from storage.types import utcnow


@dataclass(frozen=True)
class Taken:
    """A row taken by this process: ``stored`` is the payload as stored (sealed or not)."""

    id: int
    stored: str
    attempts: int


@dataclass(frozen=True)
class NewWork:
    """One delivery to keep: ``payload`` is the plain JSON (the column seals it)."""

    payload: str
    dedupe_key: str | None


async def put_many(
    db: Database, items: Sequence[NewWork], *, platform: str, owner: str, lease: timedelta
) -> list[int | None]:
    """Keep deliveries in one transaction (two statements, whatever their number): for each
    item its row id, or ``None`` when its dedupe key was seen before (then nothing is kept)."""
    now = utcnow()
    keys = list(dict.fromkeys(i.dedupe_key[:200] for i in items if i.dedupe_key))
    async with db.write() as s:
        conn = await s.connection()
        fresh: set[str] = set()
        if keys:
            # Parameter lists (not one VALUES clause per batch size): compiled once, cached.
            dialect_insert = sqlite.insert if db.is_sqlite else postgresql.insert
            claimed = await conn.execute(
                dialect_insert(InboundSeen)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(col(InboundSeen.key)),
                [{"key": k, "seen_at": now} for k in keys],
            )
            fresh = {str(row[0]) for row in claimed}
        kept: list[NewWork] = []
        for item in items:
            key = item.dedupe_key[:200] if item.dedupe_key else None
            if key is None or key in fresh:
                fresh.discard(key or "")  # the same key twice in one batch is kept once
                kept.append(item)
        if not kept:
            return [None] * len(items)
        rows = await conn.execute(
            insert(InboundWork).returning(col(InboundWork.id), sort_by_parameter_order=True),
            [
                {
                    "platform": platform,
                    "payload": i.payload,
                    "owner": owner,
                    "lease_until": now + lease,
                    "attempts": 0,
                    "created_at": now,
                }
                for i in kept
            ],
        )
        kept_ids = {id(item): int(row[0] or 0) for item, row in zip(kept, rows, strict=True)}
    return [kept_ids.get(id(item)) for item in items]


async def renew(db: Database, work_id: int, *, owner: str, lease: timedelta) -> bool:
    """Extend our lease on a row; ``False`` when another process has taken it meanwhile."""
    async with db.write() as s:
        result: Any = await s.exec(
            update(InboundWork)
            .where(col(InboundWork.id) == work_id, col(InboundWork.owner) == owner)
            .values(lease_until=utcnow() + lease)
        )
        return bool(result.rowcount)


async def take(
    db: Database,
    *,
    platform: str,
    owner: str,
    lease: timedelta,
    limit: int = 20,
    everything: bool = False,
    exclude: Collection[int] = (),
) -> list[Taken]:
    """Take rows whose lease ran out (or, ``everything``, every row: a lone SQLite process
    starting up owns all that is left), oldest first, skipping ``exclude`` (ours, in hand)."""
    now = utcnow()
    async with db.write() as s:
        query = select(InboundWork.id).where(col(InboundWork.platform) == platform)
        if not everything:
            query = query.where(col(InboundWork.lease_until) < now)
        if exclude:
            query = query.where(col(InboundWork.id).not_in(list(exclude)))
        query = query.order_by(col(InboundWork.id)).limit(limit)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(await s.exec(query))
        if not ids:
            return []
        await s.exec(
            update(InboundWork)
            .where(col(InboundWork.id).in_(ids))
            .values(owner=owner, lease_until=now + lease, attempts=InboundWork.attempts + 1)
        )
        # The payload as stored: one row that cannot be unsealed must not hide the others.
        rows = await s.exec(
            select(
                InboundWork.id,
                type_coerce(InboundWork.payload, Text),
                InboundWork.attempts,
            )
            .where(col(InboundWork.id).in_(ids))
            .order_by(col(InboundWork.id))
        )
        return [Taken(int(i or 0), str(p), int(a)) for i, p, a in rows]


async def done_many(db: Database, ids: Sequence[int]) -> None:
    """The work is handled (or given up): forget it."""
    async with db.write() as s:
        await s.exec(delete(InboundWork).where(col(InboundWork.id).in_(list(ids))))


async def waiting(db: Database, platform: str | None = None) -> int:
    """How many deliveries are acknowledged but not yet handled."""
    async with db.read() as s:
        query = select(func.count()).select_from(InboundWork)
        if platform is not None:
            query = query.where(col(InboundWork.platform) == platform)
        return int((await s.exec(query)).one() or 0)
