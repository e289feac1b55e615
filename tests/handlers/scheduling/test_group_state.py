"""The planner's bookmark (``next_check_on``): only groups where something can change are
looked at, and no day on which a delivery changes is ever skipped. On SQLite and PostgreSQL."""

from datetime import date, timedelta

from sqlmodel import select

from handlers.scheduling import group_state
from handlers.scheduling.channel_nudges import todays_nudge_key
from handlers.scheduling.deliveries import calendar_for
from handlers.scheduling.due import DEFAULT_RULES
from handlers.scheduling.group_state import next_check, state_on, supervision_state
from handlers.scheduling.kinds import SCHEDULING_KINDS, due_deliveries
from handlers.scheduling.officer_reports import report_due, report_key
from storage.models import (
    CoreGroup,
    Delivery,
    Organisation,
    StaffRole,
)
from tests.factories.ledger import ledger_statuses as rows
from tests.factories.ledger import planned_keys as keys
from tests.factories.rows import add_group, add_organisation, add_session, at
from tests.factories.scenarios import one_core_group as world


async def checked_groups(core, now) -> set[int]:
    async with core.db.read() as s:
        return {g.id for g in await group_state.groups_to_check(s, now)}


async def test_a_group_bookmarked_for_later_is_skipped_until_its_dates_change(core):
    group = await world(core)  # registered 20 Jan: due Mon 20 Apr, first nudge Mon 6 Apr
    assert await keys(core, at(2026, 3, 2)) == []
    async with core.db.read() as s:
        assert (await s.get(CoreGroup, group.id)).next_check_on == date(2026, 4, 6)
    assert await checked_groups(core, at(2026, 3, 3)) == set()
    async with core.db.write() as s:
        g = await s.get(CoreGroup, group.id)
        g.registered_on = date(2026, 1, 1)  # due Wed 1 Apr, first nudge Wed 18 Mar
        s.add(g)
    assert await checked_groups(core, at(2026, 3, 3)) == {group.id}
    assert await keys(core, at(2026, 3, 3)) == []
    assert await checked_groups(core, at(2026, 3, 4)) == set()
    assert await keys(core, at(2026, 3, 18)) == [f"nudge:{group.id}:2026-04-01:ahead"]


async def test_closing_a_session_makes_the_group_due_for_a_check_again(core):
    group = await world(core)
    await keys(core, at(2026, 4, 7))
    assert await checked_groups(core, at(2026, 4, 8)) == set()
    async with core.db.write() as s:
        await add_session(s, group, opened_at=at(2026, 4, 8, 9), closed_at=at(2026, 4, 8, 10))
    assert await checked_groups(core, at(2026, 4, 8)) == {group.id}
    await keys(core, at(2026, 4, 8))
    assert await rows(core) == {f"nudge:{group.id}:2026-04-20:ahead": "cancelled"}


async def test_many_groups_never_looked_at_are_spread_over_the_next_sweeps(core, monkeypatch):
    monkeypatch.setattr(group_state, "MAX_GROUPS_PER_SWEEP", 2)
    async with core.db.write() as s:
        org = await add_organisation(s, platform="fake")
        for i in range(3):
            await add_group(
                s,
                org,
                child_ref=f"X-{i}",
                registered_on=date(2026, 1, 20),
                facilitator_id="U",
                channel_id=f"C{i}",
            )
    assert len(await keys(core, at(2026, 4, 7, 9))) == 2
    assert len(await keys(core, at(2026, 4, 7, 9, 1))) == 1
    assert await keys(core, at(2026, 4, 7, 9, 2)) == []
    assert await checked_groups(core, at(2026, 4, 8)) == set()


async def test_sweeps_find_every_nudge_due_even_after_days_without_a_sweep(core):
    async with core.db.write() as s:
        org = await add_organisation(s, platform="fake", leads=["U_LEAD"])
        for i in range(36):
            await add_group(
                s,
                org,
                child_ref=f"X-{i}",
                registered_on=date(2025, 1, 1) + timedelta(days=11 * i),
                facilitator_id="U",
                channel_id=f"C{i}",
                schedule_anchor="last_held" if i % 3 == 0 else "registration",
                last_supervision_on=date(2025, 9, 1) + timedelta(days=i * 5)
                if i % 3 == 0
                else None,
            )
    cal = calendar_for(org)
    checked_per_sweep = []
    for day in range(0, 365, 9):
        now = at(2026, 1, 5) + timedelta(days=day)
        checked_per_sweep.append(len(await checked_groups(core, now)))
        await due_deliveries(core, now)
        async with core.db.read() as s:
            ledger_rows = list(await s.exec(select(Delivery)))
            pending = {r.key for r in ledger_rows if r.kind == "nudge" and r.status == "pending"}
            reports = {r.key for r in ledger_rows if r.kind == "report"}
            wanted = set()
            for g in await s.exec(select(CoreGroup)):
                state = await supervision_state(s, g, cal, now, DEFAULT_RULES)
                key = todays_nudge_key(g, state, cal, DEFAULT_RULES)
                if key:
                    wanted.add(key)
                if report_due(state, cal, DEFAULT_RULES):
                    lead = (await s.exec(select(StaffRole))).one()
                    assert report_key(g.id, state.due.on, lead.id) in reports
        assert pending == wanted, now
    # After the first sweep only the groups whose nudging moves that day are looked at.
    assert max(checked_per_sweep[1:]) < 36 / 2


def test_the_bookmark_never_skips_a_day_on_which_the_nudges_change():
    """Pure: day by day over three years, the due occurrence, the channel's nudge and the
    report only change on a bookmarked day (the bookmark asks every registered kind)."""
    cal = calendar_for(Organisation(platform="fake", external_id="T", nation="SCT"))
    groups = []
    for i in range(40):
        groups.append(
            CoreGroup(
                id=i + 1,
                org_id=1,
                child_ref="X",
                registered_on=date(2024, 1, 3) + timedelta(days=13 * i),
                pre_birth=i % 7 == 0,
                rcppm_on=date(2024, 5, 1) + timedelta(days=3 * i) if i % 14 == 0 else None,
                facilitator_id="U",
                channel_id="C",
                schedule_anchor="last_held" if i % 3 == 0 else "registration",
                last_supervision_on=date(2024, 6, 1) + timedelta(days=9 * i) if i % 4 else None,
                snoozed_until=date(2025, 2, 1) + timedelta(days=i) if i % 5 == 0 else None,
                # Some picked a date (one a Saturday), before or long after the due date.
                planned_on=date(2024, 4, 6) + timedelta(days=11 * i) if i % 3 == 1 else None,
            )
        )
    held = [date(2024, 9, 2) + timedelta(days=17 * i) for i in range(0, 40, 2)]
    for group in groups:
        bookmark = None
        seen = None
        day = date(2024, 1, 1)
        while day < date(2027, 1, 1):
            got = state_on(group, held[: group.id % 4], False, day, DEFAULT_RULES)
            now = (
                got.due,
                todays_nudge_key(group, got, cal, DEFAULT_RULES),
                report_due(got, cal, DEFAULT_RULES),
            )
            if bookmark is None or day >= bookmark:
                bookmark = next_check(group, got, cal, DEFAULT_RULES, list(SCHEDULING_KINDS))
                assert bookmark > day
                seen = now
            else:
                assert now == seen, (group.id, day, bookmark)
            day += timedelta(days=1)
