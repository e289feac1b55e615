"""Rows, one builder each, for tests and benchmarks.

Every builder adds to an open write transaction (``async with db.write() as s``) and flushes,
so the row has its id and the next builder can refer to it: builders compose inside one
transaction. Defaults are plain, valid values; any column can be given as a keyword.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    CoreGroup,
    Delivery,
    Member,
    MemberRole,
    Organisation,
    OrgRole,
    Participation,
    ReflectionSession,
    SessionStatus,
    StaffRole,
)


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    """A moment in UTC (10:00 unless told), as the scheduler and the store keep them."""
    return datetime(y, m, d, h, mi, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    """Someone to add to a core group."""

    user_id: str
    name: str
    agency: str = ""
    role: MemberRole = MemberRole.MEMBER


RITA = Person("U_RO", "Rita", role=MemberRole.FACILITATOR)  # the Reviewing Officer
SAM = Person("U_SW", "Sam")
HANA = Person("U_HV", "Hana")

# (choice, comment) per member, in member order; (None, None) is a member who did not answer.
Given = Sequence[tuple[str | None, str | None]]


async def add_organisation(
    s: AsyncSession,
    *,
    platform: str = "console",
    external_id: str = "T1",
    leads: Iterable[str] = (),
    admins: Iterable[str] = (),
    **fields: Any,
) -> Organisation:
    """An organisation, with these users as its Lead Officers and admins."""
    org = Organisation(platform=platform, external_id=external_id, **fields)
    s.add(org)
    await s.flush()
    for role, users in ((OrgRole.LEAD_OFFICER, leads), (OrgRole.ADMIN, admins)):
        for user in users:
            s.add(StaffRole(org_id=org.id or 0, user_id=user, role=role))
    await s.flush()
    return org


async def add_group(
    s: AsyncSession,
    org: Organisation,
    *,
    child_ref: str = "AB-1234",
    registered_on: date = date(2026, 1, 5),
    facilitator_id: str = "U_RO",
    channel_id: str = "C1",
    **fields: Any,
) -> CoreGroup:
    """A core group of ``org`` (no members yet: see ``add_members``)."""
    group = CoreGroup(
        org_id=org.id or 0,
        child_ref=child_ref,
        registered_on=registered_on,
        facilitator_id=facilitator_id,
        channel_id=channel_id,
        **fields,
    )
    s.add(group)
    await s.flush()
    return group


async def add_members(
    s: AsyncSession, group: CoreGroup, people: Iterable[Person], **fields: Any
) -> list[Member]:
    """These people as members of ``group``, in order."""
    members = [
        Member(
            group_id=group.id or 0,
            user_id=p.user_id,
            display_name=p.name,
            agency=p.agency,
            role=p.role,
            **fields,
        )
        for p in people
    ]
    s.add_all(members)
    await s.flush()
    return members


async def add_session(
    s: AsyncSession,
    group: CoreGroup,
    *,
    set_id: str = "appendix1",
    set_version: int = 1,
    opened_by: str | None = None,
    status: SessionStatus | None = None,
    closed_at: datetime | None = None,
    **fields: Any,
) -> ReflectionSession:
    """A session of ``group``, opened by its facilitator: open, or closed when ``closed_at``
    is given (``status`` overrides either)."""
    session = ReflectionSession(
        group_id=group.id or 0,
        set_id=set_id,
        set_version=set_version,
        opened_by=opened_by or group.facilitator_id,
        status=status or (SessionStatus.CLOSED if closed_at else SessionStatus.OPEN),
        closed_at=closed_at,
        **fields,
    )
    s.add(session)
    await s.flush()
    return session


async def add_participation(
    s: AsyncSession, session: ReflectionSession, member: Member, **fields: Any
) -> Participation:
    """``member``'s place in ``session`` (invited, unless a ``state`` is given)."""
    part = Participation(session_id=session.id or 0, member_id=member.id or 0, **fields)
    s.add(part)
    await s.flush()
    return part


async def add_participations(
    s: AsyncSession, session: ReflectionSession, members: Iterable[Member], **fields: Any
) -> list[Participation]:
    return [await add_participation(s, session, m, **fields) for m in members]


async def add_answer(
    s: AsyncSession,
    session: ReflectionSession,
    member: Member | int,
    question_id: str,
    choice: str | None = None,
    comment: str | None = None,
    **fields: Any,
) -> Answer:
    member_id = member if isinstance(member, int) else member.id or 0
    answer = Answer(
        session_id=session.id or 0,
        member_id=member_id,
        question_id=question_id,
        choice=choice,
        comment=comment,
        **fields,
    )
    s.add(answer)
    return answer


async def add_answers(
    s: AsyncSession,
    session: ReflectionSession,
    members: Sequence[Member],
    answers: Mapping[str, Given],
) -> None:
    """Question id -> what each member gave, in member order; missing or (None, None): no
    answer from that member."""
    for question_id, given in answers.items():
        for member, (choice, comment) in zip(members, given, strict=False):
            if choice is not None or comment is not None:
                await add_answer(s, session, member, question_id, choice, comment)
    await s.flush()


async def add_position(
    s: AsyncSession,
    session: ReflectionSession,
    question_id: str,
    position: str | None = None,
    **fields: Any,
) -> AgreedPosition:
    """The group's agreed position on a question, recorded by the session's opener."""
    fields.setdefault("recorded_by", session.opened_by)
    agreed = AgreedPosition(
        session_id=session.id or 0, question_id=question_id, position=position, **fields
    )
    s.add(agreed)
    return agreed


async def add_action(
    s: AsyncSession, session: ReflectionSession, text: str, **fields: Any
) -> ActionItem:
    """An action agreed in ``session`` (give ``owner_member_id`` and ``due_on`` as needed)."""
    action = ActionItem(session_id=session.id or 0, group_id=session.group_id, text=text, **fields)
    s.add(action)
    await s.flush()
    return action


async def add_delivery(
    s: AsyncSession, org: Organisation, key: str, due_at: datetime, **fields: Any
) -> Delivery:
    """A ledger row (a pending nudge unless told otherwise)."""
    fields.setdefault("kind", "nudge")
    row = Delivery(key=key, org_id=org.id or 0, due_at=due_at, **fields)
    s.add(row)
    await s.flush()
    return row
