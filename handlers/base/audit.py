"""The append-only, tamper-evident audit log: each row's hash covers the previous row's hash.

Details hold ids and kinds only (never answer text or a child reference), so the log itself
can be kept longer than the records it describes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


def _digest(
    prev_hash: str,
    at: datetime,
    org_id: int | None,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), org_id, actor, action, subject, detail],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    s: AsyncSession,
    *,
    org_id: int | None,
    actor: str,
    action: str,
    subject: str = "",
    at: datetime,
    **detail: Any,
) -> AuditEvent:
    """Append one event inside the caller's write transaction (so it commits with the change)."""
    if s.bind is not None and s.bind.dialect.name == "postgresql":
        # One writer at a time extends the chain; released at commit.
        await s.exec(text("SELECT pg_advisory_xact_lock(7263001)"))  # type: ignore[call-overload]
    last = (await s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1))).first()
    prev = last.hash if last else ""
    event = AuditEvent(
        at=at,
        org_id=org_id,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev,
    )
    event.hash = _digest(prev, at, org_id, actor, action, subject, detail)
    s.add(event)
    await s.flush()
    return event


def verify_chain(events: list[AuditEvent], start: str = "") -> int | None:
    """The id of the first event whose hash does not match (None when the chain is intact).

    ``start`` is the hash the first event links to ("" for a log that was never purged).
    """
    prev = start
    for e in events:
        expected = _digest(prev, e.at, e.org_id, e.actor, e.action, e.subject, dict(e.detail))
        if e.prev_hash != prev or e.hash != expected:
            return e.id
        prev = e.hash
    return None
