"""An organisation with a core group to schedule for, and the ledger as the tests read it:
shared by the scheduling tests (nudges, reports, reminders, actions, picked dates)."""

from datetime import UTC, date, datetime

from sqlmodel import select

from handlers.scheduling.kinds import due_deliveries
from storage.models import (
    CoreGroup,
    Delivery,
    Member,
    MemberRole,
    Organisation,
    OrgRole,
    Participation,
    ParticipationState,
    PersonPreference,
    ReflectionSession,
    StaffRole,
)


def at(y, m, d, h=10, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


async def world(core, *, nation="ENG", leads=("U_LEAD",), **group_kw) -> CoreGroup:
    """An organisation with Lead Officers, and one core group: RO facilitates, SW and HV."""
    async with core.db.write() as s:
        org = Organisation(platform="fake", external_id="T1", nation=nation)
        s.add(org)
        await s.flush()
        for user in leads:
            s.add(StaffRole(org_id=org.id, user_id=user, role=OrgRole.LEAD_OFFICER))
        fields = dict(
            org_id=org.id,
            child_ref="AB-1234",
            registered_on=date(2026, 1, 20),
            facilitator_id="U_RO",
            channel_id="C_GROUP",
        )
        fields.update(group_kw)
        group = CoreGroup(**fields)
        s.add(group)
        await s.flush()
        s.add(
            Member(
                group_id=group.id, user_id="U_RO", display_name="Rita", role=MemberRole.FACILITATOR
            )
        )
        s.add(Member(group_id=group.id, user_id="U_SW", display_name="Sam"))
        s.add(Member(group_id=group.id, user_id="U_HV", display_name="Hana"))
        return group


async def keys(core, now, **kw) -> list[str]:
    return sorted(p.key for p in await due_deliveries(core, now, **kw))


async def rows(core) -> dict[str, str]:
    async with core.db.read() as s:
        return {r.key: r.status for r in await s.exec(select(Delivery))}


async def row(core, key) -> Delivery:
    async with core.db.read() as s:
        return (await s.exec(select(Delivery).where(Delivery.key == key))).one()


async def open_session(core, group, *, opened=None, closes=None) -> ReflectionSession:
    async with core.db.write() as s:
        session = ReflectionSession(
            group_id=group.id,
            set_id="appendix1",
            set_version=1,
            opened_by="U_RO",
            opened_at=opened or at(2026, 3, 2),
            closes_at=closes,
        )
        s.add(session)
        await s.flush()
        members = {m.user_id: m for m in await s.exec(select(Member))}
        for user, state in (
            ("U_SW", ParticipationState.INVITED),
            ("U_HV", ParticipationState.DONE),
            ("U_RO", ParticipationState.ANSWERING),
        ):
            s.add(Participation(session_id=session.id, member_id=members[user].id, state=state))
        return session


async def member_id(core, user) -> int:
    async with core.db.read() as s:
        return (await s.exec(select(Member.id).where(Member.user_id == user))).one()


async def speaks(core, group, *, org: str | None = None, people: dict[str, str] | None = None):
    """Set the organisation's language and people's own choices (as /reflect language does)."""
    async with core.db.write() as s:
        if org is not None:
            found = await s.get(Organisation, group.org_id)
            found.language = org
            s.add(found)
        for user, lang in (people or {}).items():
            s.add(PersonPreference(org_id=group.org_id, user_id=user, language=lang))
