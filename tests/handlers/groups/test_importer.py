"""Bulk import of core groups: every row checked first, then all of the file or none of it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import SQLModel, select

from handlers.base.core import Core
from handlers.groups.importer import import_groups
from storage.models import AuditEvent, CoreGroup, Member, MemberRole, Organisation
from tests.factories.rows import add_organisation

HEADER = (
    "child_ref,registration_date,pre_birth,rcppm_date,channel_id,"
    "facilitator_id,facilitator_name,chair_id,members\n"
)
GOOD = HEADER + (
    "AB-1234,2026-01-05,no,,C1,URO,Rita Reviewing,UCHAIR,"
    "USW|Sam Social|Social care;UHV|Hana Health|Health visiting\n"
    "CD-5678,02/02/2026,yes,,C2,URO,Rita Reviewing,,"
    "USCH|Sol School|Education;URO|Rita R|Safeguarding\n"
)
ORG = ("slack", "T1")


async def counts(core: Core) -> dict[str, int]:
    out = {}
    async with core.db.read() as s:
        for model in (Organisation, CoreGroup, Member, AuditEvent):
            table: type[SQLModel] = model
            out[model.__name__] = (await s.exec(select(func.count()).select_from(table))).one()
    return out


async def test_a_valid_file_creates_groups_members_and_the_organisation(core: Core) -> None:
    report = await import_groups(core, *ORG, GOOD, dry_run=False)

    assert report.errors == [] and report.created == 2 and report.skipped == []
    assert report.summary() == "Created 2 core group(s); skipped 0."
    async with core.db.read() as s:
        org = (await s.exec(select(Organisation))).one()
        assert (org.platform, org.external_id) == ORG
        groups = {g.channel_id: g for g in await s.exec(select(CoreGroup))}
        members = {(m.group_id, m.user_id): m for m in await s.exec(select(Member))}
    first, second = groups["C1"], groups["C2"]
    assert (first.child_ref, first.registered_on, first.pre_birth) == (
        "AB-1234",
        date(2026, 1, 5),
        False,
    )
    assert (first.facilitator_id, first.chair_id) == ("URO", "UCHAIR")
    assert (second.registered_on, second.pre_birth, second.rcppm_on) == (
        date(2026, 2, 2),
        True,
        None,
    )
    roles = {uid: m.role for (gid, uid), m in members.items() if gid == first.id}
    assert roles == {
        "URO": MemberRole.FACILITATOR,
        "UCHAIR": MemberRole.CHAIR,
        "USW": MemberRole.MEMBER,
        "UHV": MemberRole.MEMBER,
    }
    assert members[(first.id, "UHV")].agency == "Health visiting"
    # The facilitator listed among the members keeps the facilitator role, once.
    ro_second = members[(second.id, "URO")]
    assert ro_second.role == MemberRole.FACILITATOR
    assert ro_second.agency == "Safeguarding"
    assert [uid for (gid, uid) in members if gid == second.id].count("URO") == 1


async def test_a_file_with_errors_imports_nothing_and_names_row_and_column(core: Core) -> None:
    bad = HEADER + (
        "AB-1234,2026-01-05,no,,C1,URO,Rita,,\n"  # row 2: fine on its own
        "CD-5678,5th of May,no,,C2,URO,Rita,,\n"  # row 3
        "EF-9012,2026-01-05,maybe,,C3,URO,Rita,URO,\n"  # row 4
        "GH-3456,2026-01-05,no,,C1,URO,Rita,,\n"  # row 5: channel again
        "IJ-7890,2026-01-05,yes,2025-12-01,C4,URO,Rita,,USW|Sam;broken\n"  # row 6
        "KL-1111,2099-01-01,no,,C5,,,,\n"  # row 7
    )
    before = await counts(core)

    report = await import_groups(core, *ORG, bad, dry_run=False)

    assert report.created == 0
    assert report.errors == [
        "row 3, registration_date: not a date (use YYYY-MM-DD or DD/MM/YYYY)",
        "row 4, pre_birth: use yes or no (or leave it blank)",
        "row 4, chair_id: the facilitator must not chair this child's conferences (CPPMs)",
        "row 5, channel_id: C1 is also on row 2",
        "row 6, rcppm_date: is before the registration date",
        "row 6, members: member 2 should be user_id|Display Name|Agency",
        "row 7, registration_date: is in the future",
        "row 7, facilitator_id: missing",
        "row 7, facilitator_name: missing",
    ]
    assert report.summary().startswith("Nothing imported")
    assert await counts(core) == before
    assert all("AB-1234" not in e and "CD-5678" not in e for e in report.errors)


async def test_reimporting_skips_groups_already_registered(core: Core) -> None:
    await import_groups(core, *ORG, GOOD, dry_run=False)
    before = await counts(core)
    more = GOOD + "MN-2222,2026-01-10,,,C3,URO,Rita Reviewing,,\n"

    report = await import_groups(core, *ORG, more, dry_run=False)

    assert report.errors == []
    assert report.created == 1
    assert report.skipped == [
        "row 2: channel C1 is already registered for this child; skipped, left unchanged",
        "row 3: channel C2 is already registered for this child; skipped, left unchanged",
    ]
    after = await counts(core)
    assert after["CoreGroup"] == before["CoreGroup"] + 1
    assert after["Organisation"] == 1


async def test_a_channel_registered_for_another_child_is_an_error(core: Core) -> None:
    await import_groups(core, *ORG, GOOD, dry_run=False)
    before = await counts(core)
    clash = HEADER + ("MN-2222,2026-01-10,,,C9,URO,Rita,,\nZZ-0000,2026-01-10,,,C1,URO,Rita,,\n")

    report = await import_groups(core, *ORG, clash, dry_run=False)

    assert report.errors == ["row 3, channel_id: C1 already has a core group for a different child"]
    assert report.created == 0
    assert await counts(core) == before  # the good row 2 was not imported either


async def test_the_same_channel_in_another_organisation_is_not_a_duplicate(core: Core) -> None:
    await import_groups(core, *ORG, GOOD, dry_run=False)
    report = await import_groups(core, "teams", "tenant-2", GOOD, dry_run=False)
    assert (report.created, report.skipped, report.errors) == (2, [], [])


async def test_dry_run_reports_but_changes_nothing(core: Core) -> None:
    before = await counts(core)

    report = await import_groups(core, *ORG, GOOD, dry_run=True)

    assert report.errors == [] and report.created == 2
    assert report.summary() == "Would create 2 core group(s); skipped 0."
    assert await counts(core) == before


async def test_a_name_where_a_reference_belongs_is_refused_without_repeating_it(
    core: Core,
) -> None:
    before = await counts(core)
    named = GOOD + "Jane Smith,2026-01-10,,,C3,URO,Rita Reviewing,,\n"

    for dry_run in (True, False):
        report = await import_groups(core, *ORG, named, dry_run=dry_run)
        assert report.created == 0
        assert report.errors == [
            "row 4, child_ref: this looks like a name; use the child's initials or a case number"
            " (your organisation does not store children's names)"
        ]
        assert all("Jane" not in e and "Smith" not in e for e in report.errors)
    assert await counts(core) == before  # the two good rows were not imported either


async def test_an_organisation_that_stores_names_may_import_them(core: Core) -> None:
    async with core.db.write() as s:
        await add_organisation(s, platform=ORG[0], external_id=ORG[1], child_names_allowed=True)
    named = HEADER + "Jane Smith,2026-01-10,,,C3,URO,Rita Reviewing,,\n"

    report = await import_groups(core, *ORG, named, dry_run=False)

    assert (report.created, report.errors) == (1, [])


async def test_garbage_input_gets_a_clear_error_and_changes_nothing(core: Core) -> None:
    before = await counts(core)
    cases = {
        "binary": ("\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "not a CSV text file"),
        "huge": (HEADER + "x" * 10_000_000, "too large"),
        "no header": ("AB-1234,2026-01-05,no,,C1,URO,Rita,,\n", "first row must name the columns"),
        "half header": ("child_ref,channel_id\nAB-1,C1\n", "missing column(s) registration_date"),
        "empty": ("", "the file is empty"),
        "header only": (HEADER, "no core groups"),
        "typo column": (
            HEADER.replace("chair_id", "chiar_id") + "A,2026-01-01,,,C,U,N,,\n",
            "unknown column(s) 'chiar_id'",
        ),
        "stray comma": (HEADER + "AB-1,2026-01-05,no,,C1,URO,Rita,,,oops\n", "stray comma"),
    }
    for name, (text, expected) in cases.items():
        report = await import_groups(core, *ORG, text, dry_run=False)
        assert report.created == 0, name
        assert len(report.errors) == 1 and expected in report.errors[0], (name, report.errors)
    assert await counts(core) == before


async def test_a_byte_order_mark_and_spreadsheet_dates_are_accepted(core: Core) -> None:
    text = "\ufeff" + HEADER.upper() + "AB-1234,05/01/2026,TRUE,05/04/2026,C1,URO,Rita,,\n"
    report = await import_groups(core, *ORG, text, dry_run=False)
    assert report.errors == [] and report.created == 1
    async with core.db.read() as s:
        group = (await s.exec(select(CoreGroup))).one()
    assert (group.registered_on, group.pre_birth, group.rcppm_on) == (
        date(2026, 1, 5),
        True,
        date(2026, 4, 5),
    )
