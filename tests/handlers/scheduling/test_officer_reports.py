"""Lead Officer reports when supervision is long overdue: once each, never naming the child,
in the reader's language; on SQLite and PostgreSQL."""

from handlers.base.messages import Direct
from handlers.scheduling.deliveries import Send
from handlers.scheduling.kinds import render
from tests.factories.ledger import ledger_row as row
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import at
from tests.factories.scenarios import one_core_group as world
from tests.factories.scenarios import set_languages as speaks


async def test_long_overdue_is_reported_to_each_lead_officer_without_the_child(core):
    group = await world(core, leads=("U_LEAD", "U_LEAD2"))
    assert not [k for k in await keys(core, at(2026, 5, 15)) if k.startswith("report")]
    now = at(2026, 5, 18)  # 28 days overdue
    planned = [k for k in await keys(core, now) if k.startswith("report")]
    assert len(planned) == 2
    decision = await render(core, await row(core, planned[0]), now)
    assert isinstance(decision, Send)
    (dm,) = decision.intents
    assert isinstance(dm, Direct) and dm.user_id in ("U_LEAD", "U_LEAD2")
    assert dm.message.text == (
        f"A core group in your organisation (group #{group.id}) is 28 days past its supervision "
        "date. The facilitator is Rita."
    )
    assert "AB-1234" not in repr(dm.message)
    assert not [k for k in await keys(core, at(2026, 5, 19)) if k.startswith("report")]


async def test_the_lead_officer_report_follows_the_reader(core):
    group = await world(core)
    await speaks(core, group, people={"U_LEAD": "cy"})
    now = at(2026, 5, 18)
    (report,) = [k for k in await keys(core, now) if k.startswith("report")]
    decision = await render(core, await row(core, report), now)
    assert isinstance(decision, Send)
    assert decision.intents[0].message.text == (
        f"Mae grŵp craidd (grŵp #{group.id}) yn eich sefydliad 28 diwrnod yn hwyr ar gyfer "
        "goruchwyliaeth. Yr hwylusydd yw Rita."
    )
