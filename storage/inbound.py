"""Deliveries already handled (Slack event/action keys, Teams activity ids): each is acted on once,
whichever instance receives it and however often the platform retries."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import InboundSeen


async def first_time(db: Database, key: str) -> bool:
    """Claim a delivery key; ``False`` when some instance already handled it."""
    try:
        async with db.write() as s:
            s.add(InboundSeen(key=key[:200]))
    except IntegrityError:
        return False
    return True


async def forget(db: Database, key: str) -> None:
    """Release a key so the platform's retry is handled (the first attempt failed)."""
    async with db.write() as s:
        row = await s.get(InboundSeen, key[:200])
        if row is not None:
            await s.delete(row)
