"""Data subjects' rights and key management: subject access export, erasure, key rotation.

These run from the operator's CLI (``coregroup privacy …``), not from chat: a request is checked
and logged by the organisation's information governance team first. Each one is audited with
ids only. People are found by platform user id, optionally within one organisation
(``platform:external_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from sqlalchemy import delete, text
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotFound
from handlers.governance.retention import delete_sessions
from handlers.governance.subject_access import CLI_ACTOR, Subject, export_user, orgs_of, parse_org
from storage import crypto
from storage.errors import Undecryptable
from storage.models import (
    ActionItem,
    Answer,
    ConversationRef,
    CoreGroup,
    Delivery,
    Member,
    Organisation,
    ReflectionSession,
    StaffRole,
)
from storage.types import SealedText

# The CLI reaches subject access through this module too.
__all__ = [
    "Erasure",
    "Subject",
    "erase_group",
    "erase_user",
    "export_user",
    "parse_org",
    "rotate_key",
    "sealed_columns",
]

FORMER_MEMBER = "Former member"


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
        orgs = await orgs_of(s, subject)
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
        await _remove_and_anonymise(s, subject, orgs, members, roles, out)
        await _note_kept(s, subject, orgs, out)
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


async def _remove_and_anonymise(
    s: AsyncSession,
    subject: Subject,
    orgs: list[Organisation],
    members: list[Member],
    roles: list[StaffRole],
    out: Erasure,
) -> None:
    """Delete their answers, pending reminders, roles and conversation references; keep their
    member rows (sessions still count them) under an anonymous name."""
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


async def _note_kept(
    s: AsyncSession, subject: Subject, orgs: list[Organisation], out: Erasure
) -> None:
    """What stays, and why: their name on groups they lead, and the audit trail."""
    org_ids = [o.id for o in orgs]
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
