"""Both backends hold the schema and enforce one open session per group."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from storage.models import CoreGroup, Organisation, ReflectionSession


async def test_one_open_session_per_group_is_enforced_by_the_database(db):
    async with db.write() as s:
        org = Organisation(platform="console", external_id="T1")
        s.add(org)
        await s.flush()
        group = CoreGroup(
            org_id=org.id,
            child_ref="AB-1",
            registered_on=date(2026, 1, 5),
            facilitator_id="U1",
            channel_id="C1",
        )
        s.add(group)
        await s.flush()
        s.add(
            ReflectionSession(group_id=group.id, set_id="appendix1", set_version=1, opened_by="U1")
        )
    with pytest.raises(IntegrityError):
        async with db.write() as s:
            s.add(
                ReflectionSession(
                    group_id=group.id, set_id="appendix1", set_version=1, opened_by="U1"
                )
            )
