"""The append-only, tamper-evident audit log: each row's hash covers the previous row's hash.

Hashes are HMAC-SHA256 under ``COREGROUP_AUDIT_KEY`` (storage.audit_key), so whoever can edit the
database but does not hold the key cannot recompute the chain after an edit. Deleting the newest
rows leaves a valid (shorter) chain; the daily anchor (bot.audit_anchor) catches that.

Details hold ids and kinds only (never answer text or a child reference), so the log itself
can be kept longer than the records it describes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_key
from storage.models import AuditEvent


def _body(e: AuditEvent, *, keyed: bool) -> bytes:
    """What a row's hash covers: the previous hash, (keyed rows) its position, and its content."""
    fields: list[Any] = [e.prev_hash, e.at.isoformat(), e.org_id, e.actor, e.action, e.subject]
    if keyed:
        fields.insert(1, e.seq)
    body = json.dumps([*fields, dict(e.detail)], sort_keys=True, separators=(",", ":"), default=str)
    return body.encode()


@dataclass(frozen=True)
class Break:
    """Where and why a chain stops verifying."""

    event_id: int | None
    reason: str


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
        seq=(last.seq if last else 0) + 1,
        at=at,
        org_id=org_id,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev,
    )
    event.hash_alg, event.hash = audit_key.sign(_body(event, keyed=True))
    s.add(event)
    await s.flush()
    return event


def verify_chain(events: list[AuditEvent], start: str = "") -> int | None:
    """The id of the first event whose hash does not match (None when the chain is intact).

    ``start`` is the hash the first event links to ("" for a log that was never purged).
    """
    broken = find_break(events, start)
    return None if broken is None else broken.event_id


def find_break(events: list[AuditEvent], start: str = "") -> Break | None:
    """The first place the chain does not verify, and why (None when it is intact).

    Unkeyed rows (``sha256``, written before the chain was keyed) are accepted only before
    the first keyed row, and only if a keyed row follows: its HMAC covers their last hash, so
    nobody without the key can rewrite them, or turn keyed rows back into unkeyed ones.
    """
    prev, prev_seq, keyed = start, None, False
    for e in events:
        if e.prev_hash != prev:
            return Break(e.id, "it does not link to the event before it (events were removed)")
        if prev_seq is not None and e.seq != prev_seq + 1:
            return Break(e.id, "its position does not follow the event before it")
        legacy = e.hash_alg == audit_key.LEGACY_ALG
        if legacy and keyed:
            return Break(e.id, "it is not keyed but comes after keyed events")
        why = audit_key.check(e.hash_alg, _body(e, keyed=not legacy), e.hash)
        if why is not None:
            return Break(e.id, why)
        prev, prev_seq, keyed = e.hash, e.seq, keyed or not legacy
    if events and not keyed:
        return Break(
            events[-1].id,
            "no event is keyed with COREGROUP_AUDIT_KEY (an upgraded log is sealed by "
            "`coregroup audit --anchor`; otherwise the chain was recomputed without the key)",
        )
    return None
