"""Both backends hold the schema and enforce one open session per group."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.factories.rows import add_session
from tests.factories.scenarios import org_and_group


async def test_one_open_session_per_group_is_enforced_by_the_database(db):
    group = await org_and_group(db)
    async with db.write() as s:
        await add_session(s, group)
    with pytest.raises(IntegrityError):
        async with db.write() as s:
            await add_session(s, group)
