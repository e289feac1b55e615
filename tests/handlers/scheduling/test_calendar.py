"""Working days, office hours, bank holidays by UK nation and the clock changes."""

from datetime import UTC, date, datetime, time

import pytest

from handlers.scheduling.calendar import WorkCalendar

ENG, WLS, SCT, NIR = (WorkCalendar(nation=n) for n in ("ENG", "WLS", "SCT", "NIR"))


@pytest.mark.parametrize(
    ("day", "off_in"),
    [
        (date(2026, 11, 30), {"SCT"}),  # St Andrew's Day (a Monday)
        (date(2026, 3, 17), {"NIR"}),  # St Patrick's Day
        (date(2026, 4, 6), {"ENG", "WLS", "NIR"}),  # Easter Monday: not a holiday in Scotland
        (date(2026, 1, 2), {"SCT"}),  # 2 January
        (date(2026, 8, 3), {"SCT"}),  # Scotland's summer bank holiday
        (date(2026, 8, 31), {"ENG", "WLS", "NIR"}),  # the rest of the UK's
        (date(2026, 7, 13), {"NIR"}),  # Battle of the Boyne (observed)
        (date(2026, 12, 25), {"ENG", "WLS", "SCT", "NIR"}),
    ],
)
def test_bank_holidays_follow_the_nation(day, off_in):
    for cal in (ENG, WLS, SCT, NIR):
        assert cal.is_working_day(day) == (cal.nation not in off_in), cal.nation


def test_weekends_are_not_working_days_and_roll_forward_to_monday():
    saturday = date(2026, 3, 7)
    assert not ENG.is_working_day(saturday)
    assert ENG.working_day_on_or_after(saturday) == date(2026, 3, 9)
    assert ENG.working_day_on_or_before(saturday) == date(2026, 3, 6)


def test_rolling_forward_skips_a_bank_holiday_after_a_weekend():
    # Easter 2026: Good Friday 3 Apr, Easter Monday 6 Apr (England), not Monday in Scotland.
    assert ENG.working_day_on_or_after(date(2026, 4, 3)) == date(2026, 4, 7)
    assert SCT.working_day_on_or_after(date(2026, 4, 3)) == date(2026, 4, 6)


def test_counting_working_days_skips_weekends_and_holidays():
    assert ENG.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)  # Thu -> Tue
    assert ENG.add_working_days(date(2026, 4, 7), -2) == date(2026, 4, 1)


def test_office_hours_are_local_and_half_open():
    cal = ENG
    assert not cal.is_open(datetime(2026, 3, 2, 8, 59, tzinfo=UTC))
    assert cal.is_open(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert cal.is_open(datetime(2026, 3, 2, 16, 59, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))


def test_next_open_waits_for_the_morning_and_for_monday():
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    assert ENG.next_open(friday_evening) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    early = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    assert ENG.next_open(early) == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    inside = datetime(2026, 3, 3, 11, 15, tzinfo=UTC)
    assert ENG.next_open(inside) == inside


def test_clocks_going_forward_keep_nine_o_clock_local():
    # British Summer Time starts on Sunday 29 March 2026.
    assert ENG.opening(date(2026, 3, 27)) == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    assert ENG.opening(date(2026, 3, 30)) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert ENG.next_open(saturday) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert not ENG.is_open(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))
    assert ENG.is_open(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))


def test_clocks_going_back_keep_nine_o_clock_local():
    # Summer time ends on Sunday 25 October 2026.
    assert ENG.opening(date(2026, 10, 23)) == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    assert ENG.opening(date(2026, 10, 26)) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    assert ENG.local(ENG.opening(date(2026, 10, 26))).time() == time(9, 0)


def test_same_local_time_a_working_day_later_across_the_clock_change():
    friday_ten = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # 10:00 GMT
    monday = ENG.add_working_days_at(friday_ten, 1)
    assert ENG.local(monday).time() == time(10, 0)
    assert monday == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # 10:00 BST


def test_an_afternoon_opening_plus_a_day_stays_in_office_hours():
    late = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert ENG.add_working_days_at(late, 1) == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)
    evening = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # opened after hours
    assert ENG.add_working_days_at(evening, 1) == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_other_time_zones_and_unknown_ones():
    belfast = WorkCalendar(timezone="Europe/Belfast", nation="NIR")
    assert belfast.opening(date(2026, 6, 1)) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    nowhere = WorkCalendar(timezone="Not/AZone")
    assert nowhere.opening(date(2026, 1, 5)) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
