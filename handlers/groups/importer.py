"""Bulk import of core groups from a CSV file: check every row first, then all or nothing.

Columns (header row required, any order, case-insensitive)::

    child_ref, registration_date, pre_birth, rcppm_date, channel_id,
    facilitator_id, facilitator_name, chair_id, members

``members`` is ``user_id|Display Name|Agency`` entries separated by ``;`` (agency optional).
Row numbers in messages are the spreadsheet's: the header is row 1.

A channel that already has a core group with the same child reference is skipped and
reported (so re-running a file is safe); a channel that has a group for a different child is
an error. Any error means nothing is written. Messages name the row, the column and the
channel, never the child reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.groups.draft import looks_like_name
from handlers.groups.import_csv import MAX_CHARS, GroupRow, parse_csv
from storage.models import CoreGroup, Member, Organisation

# The CLI checks the file size against the parser's limit through this module.
__all__ = ["MAX_CHARS", "ImportReport", "import_groups"]


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or an error, would have done)."""

    dry_run: bool
    created: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"Nothing imported: {len(self.errors)} problem(s) to fix first."
        verb = "Would create" if self.dry_run else "Created"
        return f"{verb} {self.created} core group(s); skipped {len(self.skipped)}."


class _Abort(Exception):
    """Raised inside the write transaction so that it rolls back."""


async def _org(s: AsyncSession, platform: str, external_id: str) -> Organisation | None:
    query = select(Organisation).where(
        Organisation.platform == platform, Organisation.external_id == external_id
    )
    return (await s.exec(query)).first()


async def _plan(
    s: AsyncSession,
    org: Organisation | None,
    rows: list[GroupRow],
    report: ImportReport,
    *,
    names_allowed: bool,
) -> list[GroupRow]:
    """The rows to create; a channel already registered is skipped or, if it differs, an error.

    As in ``/reflect setup``: where the organisation does not store children's names, a child
    reference that reads like one is refused (and not repeated back).
    """
    if org is not None:
        names_allowed = org.child_names_allowed
    if not names_allowed:
        for r in rows:
            if looks_like_name(r.child_ref):
                report.errors.append(
                    f"row {r.row}, child_ref: this looks like a name; use the child's initials"
                    " or a case number (your organisation does not store children's names)"
                )
    existing: dict[str, CoreGroup] = {}
    if org is not None:
        channels = [r.channel_id for r in rows]
        query = select(CoreGroup).where(CoreGroup.org_id == org.id)
        existing = {g.channel_id: g for g in await s.exec(query) if g.channel_id in channels}
    to_create = []
    for r in rows:
        found = existing.get(r.channel_id)
        if found is None:
            to_create.append(r)
        elif found.child_ref == r.child_ref:
            report.skipped.append(
                f"row {r.row}: channel {r.channel_id} is already registered for this child; "
                "skipped, left unchanged"
            )
        else:
            report.errors.append(
                f"row {r.row}, channel_id: {r.channel_id} already has a core group for a "
                "different child"
            )
    return to_create


async def _write(core: Core, s: AsyncSession, org: Organisation, rows: list[GroupRow]) -> None:
    now = core.now()
    for r in rows:
        group = CoreGroup(
            org_id=org.id or 0,
            child_ref=r.child_ref,
            registered_on=r.registered_on,
            pre_birth=r.pre_birth,
            rcppm_on=r.rcppm_on,
            facilitator_id=r.facilitator_id,
            chair_id=r.chair_id,
            channel_id=r.channel_id,
            timezone=org.timezone,
        )
        s.add(group)
        await s.flush()
        for p in r.people:
            s.add(
                Member(
                    group_id=group.id or 0,
                    user_id=p.user_id,
                    display_name=p.name,
                    agency=p.agency,
                    role=p.role,
                )
            )
        await audit.record(
            s,
            org_id=org.id,
            actor="import",
            action="group.imported",
            subject=f"group:{group.id}",
            at=now,
            members=len(r.people),
        )
    await s.flush()


async def import_groups(
    core: Core, org_platform: str, org_external_id: str, csv_text: str, *, dry_run: bool
) -> ImportReport:
    """Check the whole file, then create its core groups in one transaction (or none)."""
    report = ImportReport(dry_run=dry_run)
    if not org_platform or not org_external_id:
        report.errors.append("the organisation must be given as PLATFORM:EXTERNAL_ID")
        return report
    rows, report.errors = parse_csv(csv_text, core.now().date())
    if report.errors:
        return report
    if dry_run:
        async with core.db.read() as s:
            org = await _org(s, org_platform, org_external_id)
            planned = await _plan(s, org, rows, report, names_allowed=core.child_names_allowed)
            report.created = 0 if report.errors else len(planned)
        return report
    try:
        async with core.db.write() as s:
            org = await _org(s, org_platform, org_external_id)
            to_create = await _plan(s, org, rows, report, names_allowed=core.child_names_allowed)
            if report.errors:
                raise _Abort
            if to_create:
                if org is None:
                    org = Organisation(
                        platform=org_platform,
                        external_id=org_external_id,
                        timezone=core.default_timezone,
                        nation=core.default_nation,
                        child_names_allowed=core.child_names_allowed,
                    )
                    s.add(org)
                    await s.flush()
                await _write(core, s, org, to_create)
            report.created = len(to_create)
    except _Abort:
        report.created = 0
    except IntegrityError:
        # Someone registered one of these channels while we were importing.
        report.created = 0
        report.errors.append("a channel in the file was registered meanwhile; run the import again")
    return report
