"""How to reach a person or channel later, per platform: rows of ``ConversationRef``.

Slack keeps each person's DM channel here (``dm:<user>``); Teams keeps tenant service URLs,
channel conversations and people's 1:1 conversations. Both read and merge through this store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import ConversationRef
from storage.types import utcnow


class ConversationStore:
    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.platform = platform

    async def find(self, org: str, target: str) -> dict[str, Any] | None:
        async with self.db.read() as s:
            row = await self._row(s, org, target)
            return dict(row.data) if row else None

    async def merge(self, org: str, target: str, data: dict[str, Any]) -> None:
        """Create or update a reference; new facts win, known facts are kept."""
        if len(target) > 120 or len(org) > 64:
            return  # not an id a platform hands out; never store it
        for _attempt in range(2):
            try:
                await self._merge_once(org, target, data)
                return
            except IntegrityError:
                continue  # another instance inserted it first: merge into theirs

    async def _merge_once(self, org: str, target: str, data: dict[str, Any]) -> None:
        async with self.db.write() as s:
            row = await self._row(s, org, target)
            clean = {k: v for k, v in data.items() if v not in (None, "")}
            if row is None:
                s.add(
                    ConversationRef(
                        platform=self.platform, org_external_id=org, target=target, data=clean
                    )
                )
                return
            merged = {**row.data, **clean}
            if merged != row.data:
                row.data = merged
                row.updated_at = utcnow()
                s.add(row)

    async def _row(self, s: AsyncSession, org: str, target: str) -> ConversationRef | None:
        query = select(ConversationRef).where(
            ConversationRef.platform == self.platform,
            ConversationRef.org_external_id == org,
            ConversationRef.target == target,
        )
        return (await s.exec(query)).first()
