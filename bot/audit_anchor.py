"""Audit anchors: the chain's head hash and count, written where the database cannot reach.

A keyed chain shows an edited event, but not the newest events deleted (what is left is still a
valid chain). So once a day the sweep, and ``coregroup audit --anchor`` on demand, write the
head's hash and position as one JSON log line for a SIEM or another store:

    {"event": "audit_anchor", "head": "<hash>", "count": <n>, ...}

``coregroup audit --verify --anchor HASH:COUNT`` then checks the log still reaches that point
with that hash. The chain is one for the whole deployment (every organisation), so is its anchor.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime import Runtime
from handlers.base import audit
from storage import audit_key
from storage.db import Database
from storage.models import AuditEvent

log = logging.getLogger(__name__)

ANCHOR_EVENT = "audit_anchor"
SEAL_ACTOR = "system:audit"
_FORMAT = re.compile(r"^(?P<head>[0-9a-f]{64}|):(?P<count>\d{1,18})$")


@dataclass(frozen=True)
class Anchor:
    head: str  # the newest event's hash ("" for an empty log)
    count: int  # its position in the whole chain (events ever appended, purged ones included)

    def __str__(self) -> str:
        return f"{self.head}:{self.count}"

    def line(self, at: datetime) -> dict[str, object]:
        """The JSON log line's fields."""
        return {"event": ANCHOR_EVENT, "head": self.head, "count": self.count, "at": at.isoformat()}


def parse(value: str) -> Anchor:
    """``HASH:COUNT`` as written in an anchor line; ValueError when it is not that."""
    found = _FORMAT.match(value.strip().lower())
    if found is None:
        raise ValueError("an anchor is HASH:COUNT, the head and count of an audit_anchor line")
    return Anchor(found["head"], int(found["count"]))


async def take(db: Database, now: datetime) -> Anchor:
    """The anchor of the log as it is now (after sealing an upgraded log, see :func:`seal`).

    Only the head itself is checked (cheap, daily); ``coregroup audit --verify`` checks it all.
    Raises :class:`HeadBroken` when the head does not verify: that is never anchored.
    """
    head = await seal(db, now)
    if head is None:
        return Anchor("", 0)
    broken = audit.find_break([head], head.prev_hash)
    if broken is not None:
        raise HeadBroken(broken.reason)
    return Anchor(head.hash, head.seq)


class HeadBroken(Exception):
    """The newest audit event does not verify (edited, or signed with another key)."""


async def seal(db: Database, now: datetime) -> AuditEvent | None:
    """The head, after appending a keyed event if the head is an unkeyed (pre-0003) row.

    The keyed event's HMAC covers the unkeyed rows' last hash, so they can no longer be
    rewritten without the key.
    """
    head = await head_of(db)
    if head is None or head.hash_alg != audit_key.LEGACY_ALG:
        return head
    async with db.write() as s:
        head = await _head(s)
        if head is not None and head.hash_alg == audit_key.LEGACY_ALG:
            head = await audit.record(
                s, org_id=None, actor=SEAL_ACTOR, action="audit.keyed", at=now, sealed=head.seq
            )
    return head


async def head_of(db: Database) -> AuditEvent | None:
    """The newest audit event (None for an empty log)."""
    async with db.read() as s:
        return await _head(s)


async def _head(s: AsyncSession) -> AuditEvent | None:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)
    return (await s.exec(query)).first()


def check(events: list[AuditEvent], anchor: Anchor) -> str | None:
    """Why the log (verified, ordered by id) does not match ``anchor`` (None when it does)."""
    if anchor.count == 0:
        return None
    head = events[-1] if events else None
    if head is None or head.seq < anchor.count:
        ends = head.seq if head else 0
        return (
            f"the log ends at event {ends} but the anchor counted {anchor.count}: "
            "the newest events have been deleted"
        )
    anchored = next((e for e in events if e.seq == anchor.count), None)
    if anchored is None:
        return f"event {anchor.count} is no longer in the log (removed, or purged by retention)"
    if anchored.hash != anchor.head:
        return f"event {anchor.count} is not the one anchored: the log has been rewritten"
    return None


async def anchor_daily(runtime: Runtime, now: datetime) -> None:
    """Log the anchor once a day per process (the sweep calls this every pass)."""
    if runtime.anchored_on == now.date():
        return
    runtime.anchored_on = now.date()  # once a day, even if it fails: the error is logged
    try:
        anchor = await take(runtime.core.db, now)
    except HeadBroken as exc:
        failed = {"event": "audit_anchor_failed", "reason": str(exc)}
        log.error("audit chain head does not verify", extra=failed)
        return
    log.info(ANCHOR_EVENT, extra={k: v for k, v in anchor.line(now).items() if k != "at"})
