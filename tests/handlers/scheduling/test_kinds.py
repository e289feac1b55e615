"""The registry of delivery kinds: planning every kind in one pass, and rendering a row by its
kind. On SQLite and PostgreSQL, with a hand-moved clock."""

from handlers.scheduling.deliveries import Drop, Later
from handlers.scheduling.kinds import due_deliveries, render
from storage.models import CoreGroup, Delivery
from tests.factories.ledger import ledger_statuses as rows
from tests.factories.rows import at
from tests.factories.scenarios import one_core_group as world


async def test_a_dry_run_lists_what_is_due_and_writes_nothing(core):
    group = await world(core)  # due Mon 20 Apr
    planned = await due_deliveries(core, at(2026, 4, 20), dry_run=True)
    assert [p.key for p in planned] == [f"nudge:{group.id}:2026-04-20:due"]
    assert await rows(core) == {}
    async with core.db.read() as s:
        assert (await s.get(CoreGroup, group.id)).next_check_on is None  # bookmark untouched
    assert [p.key for p in await due_deliveries(core, at(2026, 4, 20))] == [planned[0].key]


async def test_a_row_of_a_kind_nobody_registered_is_dropped_not_sent(core):
    group = await world(core)
    stray = Delivery(key="survey:1", org_id=group.org_id, kind="survey", due_at=at(2026, 4, 20))
    assert await render(core, stray, at(2026, 4, 20, 11)) == Drop("unknown kind survey")
    # Outside office hours every row waits first, whatever its kind.
    evening = await render(core, stray, at(2026, 4, 20, 18))
    assert isinstance(evening, Later) and evening.at == at(2026, 4, 21, 8)
