"""Subject access: everything stored about one person, decrypted, as JSON-ready data.

Run from the operator's CLI (``coregroup privacy export``) once information governance has
checked the request; audited with ids only. Erasure and key rotation are
:mod:`handlers.governance.privacy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.base.errors import BadInput
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    AuditEvent,
    ConversationRef,
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ReflectionSession,
    StaffRole,
)

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


async def orgs_of(s: AsyncSession, subject: Subject) -> list[Organisation]:
    """The organisations the request covers (one, or every one on the platform, or all)."""
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


@dataclass
class _Found:
    """The person's rows: what is about them, and what they did as facilitator or chair."""

    members: list[tuple[Member, CoreGroup]] = field(default_factory=list)
    roles: list[StaffRole] = field(default_factory=list)
    parts: list[Participation] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    led: list[CoreGroup] = field(default_factory=list)
    sessions_run: list[ReflectionSession] = field(default_factory=list)
    positions: list[AgreedPosition] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    refs: list[ConversationRef] = field(default_factory=list)


async def export_user(core: Core, subject: Subject) -> dict[str, Any]:
    """Everything stored about one platform user id, decrypted, as JSON-ready data (audited)."""
    now = core.now()
    async with core.db.write() as s:
        orgs = await orgs_of(s, subject)
        org_ids = [o.id or 0 for o in orgs]
        found = _Found()
        await _about_them(s, subject, org_ids, found)
        await _what_they_did(s, subject, orgs, found)
        await audit.record(
            s,
            org_id=orgs[0].id if len(orgs) == 1 else None,
            actor=CLI_ACTOR,
            action="privacy.exported",
            subject=f"user:{subject.user_id}"[:80],
            at=now,
            organisations=len(orgs),
            answers=len(found.answers),
        )
    return {
        "subject": {
            "user_id": subject.user_id,
            "platform": subject.platform,
            "organisation": subject.org_external_id,
        },
        "exported_at": now.isoformat(),
        "organisations": [_row(o, "id", "platform", "external_id", "name") for o in orgs],
        **_their_part(found, subject.user_id),
        **_their_acts(found),
    }


async def _about_them(s: AsyncSession, subject: Subject, org_ids: list[int], found: _Found) -> None:
    """Memberships, roles, participations, answers and the actions they own."""
    found.members = [
        (m, g)
        for m, g in await s.exec(
            select(Member, CoreGroup)
            .join(CoreGroup, col(CoreGroup.id) == col(Member.group_id))
            .where(Member.user_id == subject.user_id, col(CoreGroup.org_id).in_(org_ids))
            .order_by(col(Member.id))
        )
    ]
    member_ids = [m.id for m, _g in found.members]
    found.roles = list(
        await s.exec(
            select(StaffRole).where(
                StaffRole.user_id == subject.user_id, col(StaffRole.org_id).in_(org_ids)
            )
        )
    )
    found.parts = list(
        await s.exec(select(Participation).where(col(Participation.member_id).in_(member_ids)))
    )
    found.answers = list(
        await s.exec(
            select(Answer)
            .where(col(Answer.member_id).in_(member_ids))
            .order_by(col(Answer.session_id), col(Answer.id))
        )
    )
    found.actions = list(
        await s.exec(select(ActionItem).where(col(ActionItem.owner_member_id).in_(member_ids)))
    )


async def _what_they_did(
    s: AsyncSession, subject: Subject, orgs: list[Organisation], found: _Found
) -> None:
    """Groups they lead or chair, sessions they ran, positions they recorded, their events."""
    org_ids = [o.id for o in orgs]
    group_ids = list(await s.exec(select(CoreGroup.id).where(col(CoreGroup.org_id).in_(org_ids))))
    found.led = list(
        await s.exec(
            select(CoreGroup).where(
                col(CoreGroup.id).in_(group_ids),
                (CoreGroup.facilitator_id == subject.user_id)
                | (CoreGroup.chair_id == subject.user_id),
            )
        )
    )
    found.sessions_run = list(
        await s.exec(
            select(ReflectionSession).where(
                col(ReflectionSession.group_id).in_(group_ids),
                (ReflectionSession.opened_by == subject.user_id)
                | (ReflectionSession.closed_by == subject.user_id),
            )
        )
    )
    found.positions = list(
        await s.exec(
            select(AgreedPosition)
            .join(ReflectionSession, col(ReflectionSession.id) == col(AgreedPosition.session_id))
            .where(
                AgreedPosition.recorded_by == subject.user_id,
                col(ReflectionSession.group_id).in_(group_ids),
            )
        )
    )
    found.events = list(
        await s.exec(
            select(AuditEvent)
            .where(AuditEvent.actor == subject.user_id, col(AuditEvent.org_id).in_(org_ids))
            .order_by(col(AuditEvent.id))
        )
    )
    found.refs = list(
        await s.exec(
            select(ConversationRef).where(
                col(ConversationRef.target) == subject.user_id,
                col(ConversationRef.org_external_id).in_([o.external_id for o in orgs]),
            )
        )
    )


def _their_part(found: _Found, user_id: str) -> dict[str, Any]:
    return {
        "staff_roles": [_row(r, "org_id", "role") for r in found.roles],
        "memberships": [
            {
                **_row(m, "id", "group_id", "display_name", "agency", "role", "active"),
                "child_ref": g.child_ref,
            }
            for m, g in found.members
        ],
        "facilitator_or_chair_of": [
            {"group_id": g.id, "child_ref": g.child_ref, "facilitator": g.facilitator_id == user_id}
            for g in found.led
        ],
        "participations": [
            _row(
                p, "id", "session_id", "member_id", "state", "attended", "started_at", "finished_at"
            )
            for p in found.parts
        ],
        "answers": [
            _row(
                a,
                "session_id",
                "question_id",
                "choice",
                "comment",
                "skipped",
                "answered_at",
                "updated_at",
            )
            for a in found.answers
        ],
    }


def _their_acts(found: _Found) -> dict[str, Any]:
    return {
        "actions_owned": [
            _row(a, "id", "session_id", "text", "due_on", "status") for a in found.actions
        ],
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
            for x in found.sessions_run
        ],
        "agreed_positions_recorded": [
            _row(p, "session_id", "question_id", "position", "notes", "recorded_at")
            for p in found.positions
        ],
        "audit_events_as_actor": [
            _row(e, "id", "at", "org_id", "action", "subject", "detail") for e in found.events
        ],
        "conversation_refs": [
            _row(r, "platform", "org_external_id", "updated_at") for r in found.refs
        ],
    }
