"""The scheduler's ledger read back: what a sweep planned and where each row stands."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import select

from handlers.base.core import Core
from handlers.scheduling.kinds import due_deliveries
from storage.db import Database
from storage.models import Delivery
from tests.factories.scenarios import HasDatabase, database_of


async def planned_keys(core: Core, now: datetime, **kw: Any) -> list[str]:
    """Plan as of ``now``; the keys of the rows this planning added, sorted."""
    return sorted(p.key for p in await due_deliveries(core, now, **kw))


async def ledger_rows(where: Database | HasDatabase) -> list[Delivery]:
    async with database_of(where).read() as s:
        return list(await s.exec(select(Delivery).order_by(Delivery.id)))  # type: ignore[arg-type]


async def ledger_statuses(where: Database | HasDatabase) -> dict[str, str]:
    """Every row's key and status."""
    return {r.key: r.status for r in await ledger_rows(where)}


async def status_counts(where: Database | HasDatabase) -> Counter[str]:
    """How many rows stand at each status."""
    return Counter(r.status for r in await ledger_rows(where))


async def ledger_row(where: Database | HasDatabase, key: str) -> Delivery:
    async with database_of(where).read() as s:
        return (await s.exec(select(Delivery).where(Delivery.key == key))).one()
