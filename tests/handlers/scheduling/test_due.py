"""When supervision is due (seed 004) and which nudge belongs to which day."""

from datetime import date, timedelta

from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.due import (
    Due,
    Rules,
    add_months,
    current_due,
    nudge_stages,
    stage_for,
)
from storage.models import CoreGroup, GroupStatus


def group(**kw) -> CoreGroup:
    fields = dict(
        id=7,
        org_id=1,
        child_ref="AB-1234",
        registered_on=date(2026, 1, 5),
        facilitator_id="U_RO",
        channel_id="C1",
    )
    fields.update(kw)
    return CoreGroup(**fields)


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)  # leap year
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_first_supervision_is_three_months_after_registration():
    due = current_due(group(), [], date(2026, 2, 1))
    assert due is not None
    assert due.on == date(2026, 4, 5)
    assert due.because() == "3 months after registration"


def test_then_every_six_months_from_registration():
    g = group()
    held: list[date] = []
    seen = []
    for today in (date(2026, 4, 1), date(2026, 9, 1), date(2027, 3, 1)):
        due = current_due(g, held, today)
        assert due is not None
        seen.append(due.on)
        held.append(due.on + timedelta(days=3))  # each one held a few days late
    assert seen == [date(2026, 4, 5), date(2026, 10, 5), date(2027, 4, 5)]  # +3, +9, +15 months


def test_a_late_supervision_does_not_shift_the_fixed_series():
    due = current_due(group(), [date(2026, 5, 20)], date(2026, 6, 1))
    assert due is not None and due.on == date(2026, 10, 5)


def test_a_supervision_held_a_little_early_counts_for_that_occurrence():
    due = current_due(group(), [date(2026, 3, 20)], date(2026, 3, 25))
    assert due is not None and due.on == date(2026, 10, 5)


def test_a_supervision_held_long_before_the_due_date_does_not_count():
    due = current_due(group(), [date(2026, 2, 1)], date(2026, 3, 25))
    assert due is not None and due.on == date(2026, 4, 5)


def test_an_unheld_supervision_stays_due_until_the_next_one_approaches():
    g = group()
    assert current_due(g, [], date(2026, 6, 1)).on == date(2026, 4, 5)  # type: ignore[union-attr]
    # Two weeks before the next one the channel hears about the next one instead.
    assert current_due(g, [], date(2026, 9, 21)).on == date(2026, 10, 5)  # type: ignore[union-attr]


def test_month_end_registration_clamps_in_the_series():
    g = group(registered_on=date(2026, 5, 31))
    first = current_due(g, [], date(2026, 6, 1))
    assert first is not None and first.on == date(2026, 8, 31)
    second = current_due(g, [date(2026, 8, 31)], date(2026, 9, 1))
    assert second is not None and second.on == date(2027, 2, 28)


def test_anchor_from_the_last_held_supervision():
    g = group(schedule_anchor="last_held")
    first = current_due(g, [], date(2026, 2, 1))
    assert first is not None and first.on == date(2026, 4, 5)
    after = current_due(g, [date(2026, 5, 20)], date(2026, 6, 1))
    assert after is not None
    assert after.on == date(2026, 11, 20)
    assert after.because() == "6 months after the last supervision"


def test_last_held_anchor_uses_the_recorded_date_too():
    g = group(schedule_anchor="last_held", last_supervision_on=date(2026, 6, 30))
    # held_dates() merges the recorded date with closed sessions; here it is passed directly.
    due = current_due(g, [date(2026, 6, 30)], date(2026, 7, 1))
    assert due is not None and due.on == date(2026, 12, 30)


def test_pre_birth_waits_for_the_review_conference():
    g = group(pre_birth=True, registered_on=date(2026, 1, 5))
    assert current_due(g, [], date(2026, 3, 1)) is None  # RCPPM date not known yet
    g.rcppm_on = date(2026, 3, 10)
    due = current_due(g, [], date(2026, 3, 11))
    assert due is not None
    assert due.on == date(2026, 6, 10)
    assert due.because() == "3 months after the review conference"


def test_an_ended_plan_gets_nothing():
    assert current_due(group(status=GroupStatus.ENDED), [], date(2026, 4, 5)) is None


def test_changing_the_registration_date_moves_the_due_date():
    g = group()
    assert current_due(g, [], date(2026, 2, 1)).on == date(2026, 4, 5)  # type: ignore[union-attr]
    g.registered_on = date(2026, 1, 20)
    assert current_due(g, [], date(2026, 2, 1)).on == date(2026, 4, 20)  # type: ignore[union-attr]


DUE = Due(date(2026, 4, 20), "registration", 0)  # a Monday


def names(stages):
    return [(s.name, s.day) for s in stages]


def test_nudges_ahead_on_the_day_and_weekly_while_overdue_at_most_six():
    stages = nudge_stages(DUE)
    assert [s.name for s in stages] == ["ahead", "due"] + [f"overdue{n}" for n in range(1, 7)]
    assert stages[0].day == date(2026, 4, 6)
    assert stages[-1].day == date(2026, 6, 1)


def test_stage_for_each_day_and_silence_after_the_last():
    assert stage_for(DUE, date(2026, 4, 5)) is None
    assert stage_for(DUE, date(2026, 4, 6)).name == "ahead"  # type: ignore[union-attr]
    assert stage_for(DUE, date(2026, 4, 19)).name == "ahead"  # type: ignore[union-attr]
    assert stage_for(DUE, date(2026, 4, 20)).name == "due"  # type: ignore[union-attr]
    assert stage_for(DUE, date(2026, 4, 28)).name == "overdue1"  # type: ignore[union-attr]
    assert stage_for(DUE, date(2026, 6, 7)).name == "overdue6"  # type: ignore[union-attr]
    assert stage_for(DUE, date(2026, 6, 8)) is None


def test_nudges_on_weekends_and_bank_holidays_move_to_the_next_working_day():
    cal = WorkCalendar(nation="ENG")
    due = Due(date(2026, 4, 4), "registration", 0)  # Saturday of the Easter weekend
    stages = dict(names(nudge_stages(due, roll=cal.working_day_on_or_after)))
    assert stages["due"] == date(2026, 4, 7)  # after Easter Monday
    assert stages["ahead"] == date(2026, 3, 23)  # 21 March is a Saturday
    scot = WorkCalendar(nation="SCT")
    assert dict(names(nudge_stages(due, roll=scot.working_day_on_or_after)))["due"] == date(
        2026, 4, 6
    )


def test_two_nudges_landing_on_one_day_become_one():
    rules = Rules(lead_days=2)
    due = Due(date(2026, 12, 28), "registration", 0)  # Boxing Day (observed), ahead on Sat
    cal = WorkCalendar()
    stages = names(nudge_stages(due, rules, roll=cal.working_day_on_or_after))
    days = [d for _, d in stages]
    assert len(days) == len(set(days))
    assert stages[0] == ("due", date(2026, 12, 29))
