"""Import of ended groups (``ended_on``) and people on leave (``away_until``); on SQLite and
PostgreSQL. The clock reads 2 March 2026."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from handlers.base.core import Core
from handlers.groups.importer import import_groups
from storage.models import CoreGroup, GroupStatus, Member

HEADER = (
    "child_ref,registration_date,channel_id,facilitator_id,facilitator_name,members,"
    "ended_on,away_until\n"
)
ORG = ("slack", "T1")


async def test_ended_and_away_columns_are_imported(core: Core) -> None:
    csv_text = HEADER + (
        "AB-1234,2025-01-05,C1,URO,Rita,USW|Sam|Social care;UHV|Hana|Health,"
        "2026-02-01,\n"
        "CD-5678,2026-01-05,C2,URO,Rita,USW|Sam|Social care;UHV|Hana|Health,,"
        "UHV=2026-04-30;USW=30/3/2026\n"
    )
    report = await import_groups(core, *ORG, csv_text, dry_run=False)
    assert report.errors == [] and report.created == 2
    async with core.db.read() as s:
        groups = {g.channel_id: g for g in await s.exec(select(CoreGroup))}
        leave = {
            m.user_id: m.on_leave_until
            for m in await s.exec(select(Member).where(Member.group_id == groups["C2"].id))
        }
    assert groups["C1"].status == GroupStatus.ENDED
    assert groups["C1"].ended_at is not None and groups["C1"].ended_at.date() == date(2026, 2, 1)
    assert groups["C2"].status == GroupStatus.ACTIVE
    assert leave == {"URO": None, "UHV": date(2026, 4, 30), "USW": date(2026, 3, 30)}


async def test_bad_ended_or_away_values_are_refused_and_nothing_is_written(core: Core) -> None:
    csv_text = HEADER + (
        "AB-1234,2026-01-05,C1,URO,Rita,USW|Sam|Social care,2025-12-01,\n"
        "CD-5678,2026-01-05,C2,URO,Rita,USW|Sam|Social care,,UNOBODY=2026-04-30\n"
        "EF-9012,2026-01-05,C3,URO,Rita,USW|Sam|Social care,,USW=2026-01-01\n"
        "GH-3456,2026-01-05,C4,URO,Rita,USW|Sam|Social care,2026-13-01,\n"
    )
    report = await import_groups(core, *ORG, csv_text, dry_run=False)
    assert report.errors == [
        "row 2, ended_on: must be between the registration date and today",
        "row 3, away_until: use user_id=YYYY-MM-DD for people listed in this row",
        "row 4, away_until: USW: the date has passed",
        "row 5, ended_on: not a date (use YYYY-MM-DD or DD/MM/YYYY)",
    ]
    async with core.db.read() as s:
        assert list(await s.exec(select(CoreGroup))) == []
