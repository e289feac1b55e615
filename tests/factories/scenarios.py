"""Whole situations built from ``rows``: pass the handler core (or a bare ``Database``).

Each opens its own write transaction, so a test can build one situation, change it, and build
the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import (
    CoreGroup,
    Member,
    MemberRole,
    Organisation,
    ParticipationState,
    PersonPreference,
    ReflectionSession,
    SessionStatus,
)
from tests.factories.rows import (
    HANA,
    RITA,
    SAM,
    Given,
    Person,
    add_action,
    add_answers,
    add_group,
    add_members,
    add_organisation,
    add_participation,
    add_position,
    add_session,
    at,
)


class HasDatabase(Protocol):
    db: Database


def database_of(where: Database | HasDatabase) -> Database:
    return where if isinstance(where, Database) else where.db


async def org_and_group(where: Database | HasDatabase, **group_fields: Any) -> CoreGroup:
    """A console organisation with one core group (child AB-1, facilitator U1, channel C1) and
    nobody in it."""
    group_fields = {"child_ref": "AB-1", "facilitator_id": "U1", **group_fields}
    async with database_of(where).write() as s:
        return await add_group(s, await add_organisation(s), **group_fields)


async def one_core_group(
    where: Database | HasDatabase,
    *,
    platform: str = "fake",
    external_id: str = "T1",
    nation: str = "ENG",
    leads: Iterable[str] = ("U_LEAD",),
    people: Iterable[Person] = (RITA, SAM, HANA),
    **group_fields: Any,
) -> CoreGroup:
    """A core group for AB-1234 registered on 20 January 2026, in channel C_GROUP: Rita
    facilitates, Sam and Hana are members. Its organisation (with ``leads`` as Lead Officers)
    is made the first time and found after that, so a test can add several groups to it."""
    group_fields = {
        "registered_on": date(2026, 1, 20),
        "channel_id": "C_GROUP",
        **group_fields,
    }
    async with database_of(where).write() as s:
        org = (
            await s.exec(
                select(Organisation).where(
                    Organisation.platform == platform, Organisation.external_id == external_id
                )
            )
        ).first()
        if org is None:
            org = await add_organisation(
                s, platform=platform, external_id=external_id, nation=nation, leads=leads
            )
        group = await add_group(s, org, **group_fields)
        await add_members(s, group, people)
        return group


async def numbered_group(where: Database | HasDatabase, n: int = 0, **fields: Any) -> CoreGroup:
    """Group ``n`` of the organisation: child AB-100n in channel Cn, registered on 20 January
    2026, Rita facilitating on her own; nobody in the organisation is a Lead Officer."""
    fields = {"child_ref": f"AB-{1000 + n}", "channel_id": f"C{n}", **fields}
    return await one_core_group(where, leads=(), people=(RITA,), **fields)


# Where each member of ``one_core_group`` is in a session under way: Hana has submitted, Rita is
# part-way through, Sam has not started.
UNDER_WAY = {
    "U_SW": ParticipationState.INVITED,
    "U_HV": ParticipationState.DONE,
    "U_RO": ParticipationState.ANSWERING,
}


async def open_session(
    where: Database | HasDatabase,
    group: CoreGroup,
    *,
    opened_at: datetime | None = None,
    closes_at: datetime | None = None,
    states: Mapping[str, ParticipationState] = UNDER_WAY,
) -> ReflectionSession:
    """An Appendix 1 session of ``group`` opened on Monday 2 March 2026 at 10:00, its members
    (by user id) at ``states``."""
    async with database_of(where).write() as s:
        session = await add_session(
            s, group, opened_at=opened_at or at(2026, 3, 2), closes_at=closes_at
        )
        members = {
            m.user_id: m for m in await s.exec(select(Member).where(Member.group_id == group.id))
        }
        for user, state in states.items():
            await add_participation(s, session, members[user], state=state)
        return session


async def member_id(where: Database | HasDatabase, user_id: str) -> int:
    """The member id of ``user_id`` (who is in one group only)."""
    async with database_of(where).read() as s:
        return (await s.exec(select(Member.id).where(Member.user_id == user_id))).one() or 0


async def set_languages(
    where: Database | HasDatabase,
    group: CoreGroup,
    *,
    org: str | None = None,
    people: Mapping[str, str] | None = None,
) -> None:
    """The organisation's language and people's own choices (as ``/reflect language`` sets
    them), by user id."""
    async with database_of(where).write() as s:
        if org is not None:
            found = await s.get(Organisation, group.org_id)
            assert found is not None
            found.language = org
            s.add(found)
        for user, language in (people or {}).items():
            s.add(PersonPreference(org_id=group.org_id, user_id=user, language=language))


# ---- a closed session with everything its record shows ----------------------------------------

# Name and agency; the facilitator first.
RECORD_PEOPLE = [
    ("Rae Officer", "Reviewing service"),
    ("Sam Social", "Children's social care"),
    ("Hana Health", "Health visiting"),
    ("Sol School", "Greenfield Primary"),
    ("Pat Police", "Police"),
    ("Gia Doctor", "GP"),
    ("Nina Housing", "Housing"),  # invited, never answered
]
ANSWERING = RECORD_PEOPLE[1:6]

# A split, a unanimous and an unanswered question, comments, and the child's and family's voice.
RECORD_ANSWERS: dict[str, Given] = {
    "risks_current": [("yes", None)] * 5,
    "plan_working": [
        ("yes", "Attendance at nursery is up."),
        ("yes", None),
        ("yes", "Mum is engaging with the health visitor."),
        ("no", "Dad has not been seen since March."),
        ("no", None),
    ],
    "new_risks": [("no", None)] * 4 + [("not_sure", "Heard a rumour of a new partner.")],
    "child_voice": [(None, "She says she likes her new teacher.")] + [(None, None)] * 4,
    "family_voice": [(None, "Mum wants help with housing.")] + [(None, None)] * 4,
    "contingency_adequate": [("yes", None)] * 5,
    "revise_plan": [("no", None)] * 5,
}


@dataclass
class RecordedSession:
    session_id: int
    group_id: int
    member_ids: dict[str, int]  # by display name


def _record_people(extra_members: int) -> list[Person]:
    named = RECORD_PEOPLE + [(f"Extra {i:02d}", f"Agency {i:02d}") for i in range(extra_members)]
    return [
        Person(f"U{i}", name, agency, MemberRole.FACILITATOR if i == 0 else MemberRole.MEMBER)
        for i, (name, agency) in enumerate(named)
    ]


async def session_with_record(
    where: Database | HasDatabase,
    *,
    answers: Mapping[str, Given] | None = None,
    closed: bool = True,
    extra_members: int = 0,
) -> RecordedSession:
    """An Appendix 1 session of AB-1234 opened on 29 June 2026 and closed at 23:30 UTC on the
    30th (already 1 July in London): Rae facilitates, five answer (plus ``extra_members``),
    Nina never does; two agreed positions (one a key point), two actions, themes, escalation."""
    closed_at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC) if closed else None
    async with database_of(where).write() as s:
        org = await add_organisation(s, name="Test council")
        group = await add_group(s, org, facilitator_id="U0")
        members = await add_members(s, group, _record_people(extra_members))
        by_name = {m.display_name: m for m in members}
        session = await add_session(
            s,
            group,
            opened_at=datetime(2026, 6, 29, 9, 0, tzinfo=UTC),
            status=SessionStatus.CLOSED if closed else SessionStatus.OPEN,
            closed_by="U0" if closed else None,
            closed_at=closed_at,
            family_sharing="The social worker will go through it with Mum on Friday.",
            takeaways="Ask the child directly before the next conference.",
            themes=["parental_engagement", "housing pressure"],
            escalation="Housing delay raised with line managers.",
        )
        answering = [by_name[name] for name, _ in ANSWERING] + members[len(RECORD_PEOPLE) :]
        for m in [*answering, by_name["Nina Housing"]]:
            done = m.display_name != "Nina Housing"
            state = ParticipationState.DONE if done else ParticipationState.INVITED
            await add_participation(s, session, m, state=state)
        await add_answers(s, session, answering, RECORD_ANSWERS if answers is None else answers)
        await _record_positions_and_actions(s, session, by_name)
        return RecordedSession(
            session.id or 0, group.id or 0, {m.display_name: m.id or 0 for m in members}
        )


async def _record_positions_and_actions(
    s: AsyncSession, session: ReflectionSession, by_name: dict[str, Member]
) -> None:
    await add_position(
        s,
        session,
        "plan_working",
        "no",
        notes="Plan drifting: father not engaged.",
        key_point=True,
    )
    await add_position(
        s, session, "risks_current", "yes", notes="Long discussion about the school run."
    )
    await add_action(
        s,
        session,
        "Request a housing assessment",
        owner_member_id=by_name["Sam Social"].id,
        due_on=date(2026, 7, 10),
    )
    await add_action(
        s,
        session,
        "Ask the child's views at school",
        owner_member_id=by_name["Sol School"].id,
        due_on=date(2026, 7, 17),
    )


# ---- a month for the Lead Officer digest, full of things it must never show ---------------------


def digest_secrets(i: int) -> list[str]:
    """What ``digest_month`` wrote for group ``i`` that no digest may ever show."""
    return [
        f"ZQ-CHILD-{i:02d}",
        f"SECRET-COMMENT-{i:02d}",
        f"SECRET-NOTE-{i:02d}",
        f"SECRET-THEME-{i:02d}",
        f"SECRET-ESCALATION-{i:02d}",
        f"SECRET-FAMILY-{i:02d}",
        f"SECRET-TAKEAWAY-{i:02d}",
        f"Secretname{i:02d}",
        f"SecretAgency{i:02d}",
        f"CH-{i:02d}",
    ]


async def _digest_group(
    s: AsyncSession, org: Organisation, i: int, registered: date
) -> tuple[CoreGroup, list[Member]]:
    group = await add_group(
        s,
        org,
        child_ref=f"ZQ-CHILD-{i:02d}",
        registered_on=registered,
        facilitator_id=f"RO{i}",
        channel_id=f"CH-{i:02d}",
    )
    people = [
        Person(f"U{i}{k}", f"Secretname{i:02d} Person{k}", f"SecretAgency{i:02d}") for k in range(2)
    ]
    return group, await add_members(s, group, people)


async def digest_month(where: Database | HasDatabase, org_id: int | None = None) -> int:
    """In one organisation (made unless ``org_id`` is given): six supervisions closed in
    February 2026, two in January, five groups registered long ago and never supervised.
    Returns the organisation's id."""
    async with database_of(where).write() as s:
        if org_id is None:
            org = await add_organisation(s, external_id="T-digest", name="Council")
        else:
            found = await s.get(Organisation, org_id)
            assert found is not None, f"no organisation {org_id}"
            org = found
        for i in range(6):
            group, members = await _digest_group(s, org, i, date(2025, 11, 20))
            session = await add_session(
                s,
                group,
                opened_at=datetime(2026, 2, 9, 9, tzinfo=UTC),
                closed_at=datetime(2026, 2, 10 + i, 15, tzinfo=UTC),
                themes=["parental_engagement", f"Free text SECRET-THEME-{i:02d}"]
                + (["resources"] if i < 2 else []),
                escalation=f"SECRET-ESCALATION-{i:02d}" if i < 3 else None,
                family_sharing=f"SECRET-FAMILY-{i:02d}",
                takeaways=f"SECRET-TAKEAWAY-{i:02d}",
            )
            position = "yes" if i < 2 else "no"
            await add_position(s, session, "plan_working", position, notes=f"SECRET-NOTE-{i:02d}")
            comment = f"SECRET-COMMENT-{i:02d}"
            given = [("yes", comment), ("no", comment)]
            await add_answers(s, session, members, {"plan_working": given})
        for i in range(6, 8):  # January: last month
            group, _ = await _digest_group(s, org, i, date(2025, 10, 20))
            await add_session(
                s,
                group,
                opened_at=datetime(2026, 1, 14, 9, tzinfo=UTC),
                closed_at=datetime(2026, 1, 15, 9, tzinfo=UTC),
                themes=["parental_engagement"],
            )
        for i in range(8, 13):  # registered long ago, never supervised: overdue
            await _digest_group(s, org, i, date(2025, 5, 1))
        return org.id or 0
