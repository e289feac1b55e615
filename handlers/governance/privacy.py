"""Data subjects' rights and key management: subject access export, erasure, key rotation.

These run from the operator's CLI (``coregroup privacy …``), not from chat: a request is checked
and logged by the organisation's information governance team first. Each one is audited with
ids only. People are found by platform user id, optionally within one organisation
(``platform:external_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import delete, text
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotFound
from handlers.governance.retention import delete_sessions
from storage import crypto
from storage.errors import Undecryptable
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    AuditEvent,
    ConversationRef,
    CoreGroup,
    Delivery,
    Member,
    Organisation,
    Participation,
    ReflectionSession,
    StaffRole,
)
from storage.types import SealedText

FORMER_MEMBER = "Former member"
CLI_ACTOR = "cli:privacy"


@dataclass(frozen=True)
class Subject:
    """A person as the platform knows them, optionally within one organisation."""

    platform: str | None
    user_id: str
    org_external_id: str | None = None


def parse_org(raw: str | None) -> tuple[str | None, str | None]:
    """``slack:T123`` -> (``slack``, ``T123``); ``None`` -> every organisation."""
    if not raw:
        return None, None
    platform, sep, external = raw.partition(":")
    if not sep or not platform or not external:
        raise BadInput("Name the organisation as PLATFORM:ID, e.g. slack:T0123 or teams:<tenant>.")
    return platform, external


async def _orgs(s: AsyncSession, subject: Subject) -> list[Organisation]:
    stmt = select(Organisation)
    if subject.platform:
        stmt = stmt.where(Organisation.platform == subject.platform)
    if subject.org_external_id:
        stmt = stmt.where(Organisation.external_id == subject.org_external_id)
    return list(await s.exec(stmt.order_by(col(Organisation.id))))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _row(obj: SQLModel, *fields: str) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


async def export_user(core: Core, subject: Subject) -> dict[str, Any]:
    """Everything stored about one platform user id, decrypted, as JSON-ready data (audited)."""
    now = core.now()
    async with core.db.write() as s:
        orgs = await _orgs(s, subject)
        org_ids = [o.id for o in orgs]
        members = list(
            await s.exec(
                select(Member, CoreGroup)
                .join(CoreGroup, col(CoreGroup.id) == col(Member.group_id))
                .where(Member.user_id == subject.user_id, col(CoreGroup.org_id).in_(org_ids))
                .order_by(col(Member.id))
            )
        )
        member_ids = [m.id for m, _g in members]
        roles = list(
            await s.exec(
                select(StaffRole).where(
                    StaffRole.user_id == subject.user_id, col(StaffRole.org_id).in_(org_ids)
                )
            )
        )
        parts = list(
            await s.exec(select(Participation).where(col(Participation.member_id).in_(member_ids)))
        )
        answers = list(
            await s.exec(
                select(Answer)
                .where(col(Answer.member_id).in_(member_ids))
                .order_by(col(Answer.session_id), col(Answer.id))
            )
        )
        actions = list(
            await s.exec(select(ActionItem).where(col(ActionItem.owner_member_id).in_(member_ids)))
        )
        group_ids = list(
            await s.exec(select(CoreGroup.id).where(col(CoreGroup.org_id).in_(org_ids)))
        )
        roles_in_groups = list(
            await s.exec(
                select(CoreGroup).where(
                    col(CoreGroup.id).in_(group_ids),
                    (CoreGroup.facilitator_id == subject.user_id)
                    | (CoreGroup.chair_id == subject.user_id),
                )
            )
        )
        sessions_run = list(
            await s.exec(
                select(ReflectionSession).where(
                    col(ReflectionSession.group_id).in_(group_ids),
                    (ReflectionSession.opened_by == subject.user_id)
                    | (ReflectionSession.closed_by == subject.user_id),
                )
            )
        )
        positions = list(
            await s.exec(
                select(AgreedPosition)
                .join(
                    ReflectionSession, col(ReflectionSession.id) == col(AgreedPosition.session_id)
                )
                .where(
                    AgreedPosition.recorded_by == subject.user_id,
                    col(ReflectionSession.group_id).in_(group_ids),
                )
            )
        )
        events = list(
            await s.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.actor == subject.user_id,
                    col(AuditEvent.org_id).in_(org_ids),
                )
                .order_by(col(AuditEvent.id))
            )
        )
        refs = list(
            await s.exec(
                select(ConversationRef).where(
                    col(ConversationRef.target) == subject.user_id,
                    col(ConversationRef.org_external_id).in_([o.external_id for o in orgs]),
                )
            )
        )
        await audit.record(
            s,
            org_id=orgs[0].id if len(orgs) == 1 else None,
            actor=CLI_ACTOR,
            action="privacy.exported",
            subject=f"user:{subject.user_id}"[:80],
            at=now,
            organisations=len(orgs),
            answers=len(answers),
        )
    return {
        "subject": {
            "user_id": subject.user_id,
            "platform": subject.platform,
            "organisation": subject.org_external_id,
        },
        "exported_at": now.isoformat(),
        "organisations": [_row(o, "id", "platform", "external_id", "name") for o in orgs],
        "staff_roles": [_row(r, "org_id", "role") for r in roles],
        "memberships": [
            {
                **_row(m, "id", "group_id", "display_name", "agency", "role", "active"),
                "child_ref": g.child_ref,
            }
            for m, g in members
        ],
        "facilitator_or_chair_of": [
            {
                "group_id": g.id,
                "child_ref": g.child_ref,
                "facilitator": g.facilitator_id == subject.user_id,
            }
            for g in roles_in_groups
        ],
        "participations": [
            _row(
                p, "id", "session_id", "member_id", "state", "attended", "started_at", "finished_at"
            )
            for p in parts
        ],
        "answers": [
            _row(
                a,
                "session_id",
                "question_id",
                "choice",
                "comment",
                "skipped",
                "submitted",
                "submitted_choice",
                "submitted_comment",
                "submitted_skipped",
                "answered_at",
                "updated_at",
            )
            for a in answers
        ],
        "actions_owned": [_row(a, "id", "session_id", "text", "due_on", "status") for a in actions],
        "sessions_opened_or_closed": [
            _row(
                x,
                "id",
                "group_id",
                "set_id",
                "status",
                "opened_by",
                "opened_at",
                "closed_by",
                "closed_at",
            )
            for x in sessions_run
        ],
        "agreed_positions_recorded": [
            _row(p, "session_id", "question_id", "position", "notes", "recorded_at")
            for p in positions
        ],
        "audit_events_as_actor": [
            _row(e, "id", "at", "org_id", "action", "subject", "detail") for e in events
        ],
        "conversation_refs": [_row(r, "platform", "org_external_id", "updated_at") for r in refs],
    }


@dataclass
class Erasure:
    """What an erasure removed or anonymised, and what it had to keep (and why)."""

    counts: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)


async def erase_user(core: Core, subject: Subject) -> Erasure:
    """Remove a person's answers and comments, anonymise their member rows, drop their roles.

    Kept, under public task: the audit events they caused (ids only, needed to prove who did
    what) and their name as facilitator of a group or author of a record, listed in ``kept``.
    """
    now = core.now()
    out = Erasure()
    async with core.db.write() as s:
        orgs = await _orgs(s, subject)
        org_ids = [o.id for o in orgs]
        members = list(
            await s.exec(
                select(Member)
                .join(CoreGroup, col(CoreGroup.id) == col(Member.group_id))
                .where(Member.user_id == subject.user_id, col(CoreGroup.org_id).in_(org_ids))
            )
        )
        roles = list(
            await s.exec(
                select(StaffRole).where(
                    StaffRole.user_id == subject.user_id, col(StaffRole.org_id).in_(org_ids)
                )
            )
        )
        if not members and not roles:
            raise NotFound("Nothing is stored about that person here.")
        member_ids = [m.id for m in members]
        answers = await s.exec(delete(Answer).where(col(Answer.member_id).in_(member_ids)))
        out.counts["answers"] = answers.rowcount or 0
        pending = await s.exec(
            delete(Delivery).where(
                col(Delivery.member_id).in_(member_ids), col(Delivery.status) == "pending"
            )
        )
        out.counts["pending_reminders"] = pending.rowcount or 0
        for m in members:
            m.user_id = f"erased:{m.id}"
            m.display_name = FORMER_MEMBER
            m.agency = ""
            m.active = False
            s.add(m)
        out.counts["members_anonymised"] = len(members)
        for r in roles:
            await s.delete(r)
        out.counts["staff_roles"] = len(roles)
        refs = await s.exec(
            delete(ConversationRef).where(
                col(ConversationRef.target) == subject.user_id,
                col(ConversationRef.org_external_id).in_([o.external_id for o in orgs]),
            )
        )
        out.counts["conversation_refs"] = refs.rowcount or 0
        led = list(
            await s.exec(
                select(CoreGroup.id).where(
                    col(CoreGroup.org_id).in_(org_ids),
                    (CoreGroup.facilitator_id == subject.user_id)
                    | (CoreGroup.chair_id == subject.user_id),
                )
            )
        )
        if led:
            out.kept.append(
                f"named as facilitator or chair of group(s) {', '.join(map(str, led))}: "
                "appoint someone else with /reflect setup, then erase again"
            )
        out.kept.append("audit events they caused (ids only; public task, accountability)")
        await s.flush()
        for org in orgs or [None]:  # type: ignore[list-item]
            await audit.record(
                s,
                org_id=org.id if org else None,
                actor=CLI_ACTOR,
                action="privacy.erased_user",
                subject=f"user:{subject.user_id}"[:80],
                at=now,
                counts=out.counts,
            )
    return out


async def erase_group(core: Core, group_id: int, org: tuple[str, str] | None = None) -> Erasure:
    """Delete a core group with all its sessions, answers, records and members (audited)."""
    now = core.now()
    out = Erasure()
    async with core.db.write() as s:
        group = await s.get(CoreGroup, group_id)
        if group is None:
            raise NotFound(f"There is no group {group_id}.")
        owner = await s.get(Organisation, group.org_id)
        if org is not None and (owner is None or (owner.platform, owner.external_id) != org):
            raise NotFound(f"Group {group_id} is not in that organisation.")
        session_ids = [
            i
            for i in await s.exec(
                select(ReflectionSession.id).where(ReflectionSession.group_id == group_id)
            )
            if i is not None
        ]
        out.counts["sessions"] = await delete_sessions(s, session_ids)
        await s.exec(delete(Delivery).where(col(Delivery.group_id) == group_id))
        await s.exec(delete(ActionItem).where(col(ActionItem.group_id) == group_id))
        members = await s.exec(delete(Member).where(col(Member.group_id) == group_id))
        out.counts["members"] = members.rowcount or 0
        await s.delete(group)
        await s.flush()
        await audit.record(
            s,
            org_id=group.org_id,
            actor=CLI_ACTOR,
            action="privacy.erased_group",
            subject=f"group:{group_id}",
            at=now,
            counts=out.counts,
        )
    return out


def sealed_columns() -> list[tuple[str, str]]:
    """(table, column) of every column stored as SealedText."""
    return [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, SealedText)
    ]


async def rotate_key(core: Core) -> int:
    """Re-encrypt every sealed value under the first configured key; returns values rewritten.

    Values written before encryption was switched on are encrypted too. Run with both keys set
    (``NEW,OLD``); afterwards the old key can be removed.
    """
    if not crypto.enabled():
        raise BadInput("Set COREGROUP_ENCRYPTION_KEY (new key first, then the old one) to rotate.")
    changed = 0
    async with core.db.write() as s:
        conn = await s.connection()
        for table, column in sealed_columns():
            # Raw SQL on purpose: the column type would decrypt on read.
            rows = (
                await conn.execute(
                    text(f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
                )
            ).all()
            for row_id, stored in rows:
                try:
                    fresh = crypto.rotate(stored)
                except InvalidToken as exc:
                    raise Undecryptable(
                        f"None of the configured keys can decrypt {table}.{column} row {row_id}. "
                        "Put the old key after the new one. Nothing was changed."
                    ) from exc
                if fresh != stored:
                    await conn.execute(
                        text(f'UPDATE "{table}" SET "{column}" = :v WHERE id = :id'),
                        {"v": fresh, "id": row_id},
                    )
                    changed += 1
        await audit.record(
            s,
            org_id=None,
            actor=CLI_ACTOR,
            action="privacy.key_rotated",
            at=core.now(),
            values=changed,
        )
    return changed
