"""Conversation references in the database: how to reach a tenant, a channel or a person later.

Rows live in ``storage.models.ConversationRef`` keyed by (``teams``, tenant id, target):

* ``tenant`` — the tenant's service URL and the bot's id there (learned on install);
* a channel / group chat conversation id — where to post in that channel;
* a user id (AAD object id) — their Teams id and, once known, their 1:1 conversation id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import ConversationRef
from storage.types import utcnow

PLATFORM = "teams"
TENANT_TARGET = "tenant"


class ReferenceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, tenant: str, target: str) -> dict[str, Any] | None:
        async with self.db.read() as s:
            row = (
                await s.exec(
                    select(ConversationRef).where(
                        ConversationRef.platform == PLATFORM,
                        ConversationRef.org_external_id == tenant,
                        ConversationRef.target == target,
                    )
                )
            ).first()
            return dict(row.data) if row else None

    async def merge(self, tenant: str, target: str, data: dict[str, Any]) -> None:
        """Create or update a reference; new facts win, known facts are kept."""
        if len(target) > 120 or len(tenant) > 64:
            return  # not an id Teams hands out; never store it
        for _attempt in range(2):
            try:
                await self._merge_once(tenant, target, data)
                return
            except IntegrityError:
                continue  # another instance inserted it first: merge into theirs

    async def _merge_once(self, tenant: str, target: str, data: dict[str, Any]) -> None:
        async with self.db.write() as s:
            row = (
                await s.exec(
                    select(ConversationRef).where(
                        ConversationRef.platform == PLATFORM,
                        ConversationRef.org_external_id == tenant,
                        ConversationRef.target == target,
                    )
                )
            ).first()
            clean = {k: v for k, v in data.items() if v not in (None, "")}
            if row is None:
                s.add(
                    ConversationRef(
                        platform=PLATFORM, org_external_id=tenant, target=target, data=clean
                    )
                )
                return
            merged = {**row.data, **clean}
            if merged != row.data:
                row.data = merged
                row.updated_at = utcnow()
                s.add(row)
