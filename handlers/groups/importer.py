"""Bulk import of core groups from a CSV file: check every row first, then all or nothing.

Columns (header row required, any order, case-insensitive)::

    child_ref, registration_date, pre_birth, rcppm_date, channel_id,
    facilitator_id, facilitator_name, chair_id, members, ended_on, away_until

``members`` is ``user_id|Display Name|Agency`` entries separated by ``;`` (agency optional).
``ended_on`` (optional) is the date the child's plan ended: the group is imported as ended.
``away_until`` (optional) is ``user_id=date`` entries separated by ``;``: listed people on leave.
Row numbers in messages are the spreadsheet's: the header is row 1.

A channel that already has a core group with the same child reference is skipped and
reported (so re-running a file is safe); a channel that has a group for a different child is
an error. Any error means nothing is written. Messages name the row, the column and the
channel, never the child reference.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.core import Core
from handlers.base.text import clean
from handlers.groups.draft import CHILD_REF, looks_like_name
from storage.models import CoreGroup, GroupStatus, Member, MemberRole, Organisation

COLUMNS = (
    "child_ref",
    "registration_date",
    "pre_birth",
    "rcppm_date",
    "channel_id",
    "facilitator_id",
    "facilitator_name",
    "chair_id",
    "members",
    "ended_on",
    "away_until",
)
REQUIRED = ("child_ref", "registration_date", "channel_id", "facilitator_id", "facilitator_name")
MAX_CHARS = 2_000_000  # a few thousand groups; anything bigger is not a core group list
MAX_ROWS = 5_000
ID_LIMIT = 64
NAME_LIMIT = 120
FACILITATOR_AGENCY = "Reviewing Officer"
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


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


@dataclass(frozen=True)
class PersonRow:
    user_id: str
    name: str
    agency: str
    role: MemberRole


@dataclass(frozen=True)
class GroupRow:
    row: int
    child_ref: str
    registered_on: date
    pre_birth: bool
    rcppm_on: date | None
    channel_id: str
    facilitator_id: str
    chair_id: str | None
    people: tuple[PersonRow, ...]
    ended_on: date | None = None
    away: tuple[tuple[str, date], ...] = ()


class _Abort(Exception):
    """Raised inside the write transaction so that it rolls back."""


def _date(raw: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007  (a calendar date)
        except ValueError:
            continue
    return None


def _user_id(raw: str) -> str | None:
    value = raw.strip()
    if not value or len(value) > ID_LIMIT or any(c.isspace() for c in value):
        return None
    return value


class _Row:
    """One CSV row being checked; collects 'row N, column: problem' messages."""

    def __init__(self, number: int, values: dict[str, str], errors: list[str]) -> None:
        self.number = number
        self.values = values
        self.errors = errors

    def error(self, column: str, problem: str) -> None:
        self.errors.append(f"row {self.number}, {column}: {problem}")

    def get(self, column: str) -> str:
        return clean(self.values.get(column) or "")

    def date(self, column: str, *, required: bool) -> date | None:
        raw = self.get(column)
        if not raw:
            if required:
                self.error(column, "missing (use YYYY-MM-DD or DD/MM/YYYY)")
            return None
        parsed = _date(raw)
        if parsed is None:
            self.error(column, "not a date (use YYYY-MM-DD or DD/MM/YYYY)")
        return parsed

    def user(self, column: str, *, required: bool) -> str | None:
        raw = self.get(column)
        if not raw:
            if required:
                self.error(column, "missing")
            return None
        user_id = _user_id(raw)
        if user_id is None:
            self.error(column, f"not a user id (no spaces, up to {ID_LIMIT} characters)")
        return user_id


def _parse_row(number: int, values: dict[str, str], today: date, errors: list[str]) -> GroupRow:
    row = _Row(number, values, errors)
    before = len(errors)
    child_ref = row.get("child_ref")
    if not child_ref:
        row.error("child_ref", "missing")
    elif not CHILD_REF.match(child_ref):
        row.error("child_ref", "use initials or a case number (letters, numbers, - . / _)")
    registered_on = row.date("registration_date", required=True)
    if registered_on and registered_on > today:
        row.error("registration_date", "is in the future")
    pre_birth_raw = row.get("pre_birth").lower()
    if pre_birth_raw not in YES | NO:
        row.error("pre_birth", "use yes or no (or leave it blank)")
    pre_birth = pre_birth_raw in YES
    rcppm_on = row.date("rcppm_date", required=False)
    if rcppm_on and registered_on and rcppm_on < registered_on:
        row.error("rcppm_date", "is before the registration date")
    channel_id = row.user("channel_id", required=True)
    facilitator_id = row.user("facilitator_id", required=True)
    facilitator_name = row.get("facilitator_name")
    if not facilitator_name:
        row.error("facilitator_name", "missing")
    elif len(facilitator_name) > NAME_LIMIT:
        row.error("facilitator_name", f"longer than {NAME_LIMIT} characters")
    chair_id = row.user("chair_id", required=False)
    if chair_id and chair_id == facilitator_id:
        # Appendix 1: the Reviewing Officer who facilitates must not chair the CPPMs.
        row.error("chair_id", "the facilitator must not chair this child's conferences (CPPMs)")
    people = _people(row, facilitator_id or "", facilitator_name, chair_id)
    ended_on = row.date("ended_on", required=False)
    if ended_on and ((registered_on and ended_on < registered_on) or ended_on > today):
        row.error("ended_on", "must be between the registration date and today")
    away = _away(row, {p.user_id for p in people}, today)
    if len(errors) > before:
        return GroupRow(number, "", date.min, False, None, "", "", None, ())
    assert registered_on and channel_id and facilitator_id  # checked above
    return GroupRow(
        number,
        child_ref,
        registered_on,
        pre_birth,
        rcppm_on,
        channel_id,
        facilitator_id,
        chair_id,
        people,
        ended_on,
        away,
    )


def _away(row: _Row, listed: set[str], today: date) -> tuple[tuple[str, date], ...]:
    """``user_id=date;…``: each a listed person, each date today or later."""
    out: list[tuple[str, date]] = []
    for chunk in filter(None, (c.strip() for c in row.get("away_until").split(";"))):
        user_id, _, raw = chunk.partition("=")
        until = _date(raw.strip())
        if user_id.strip() not in listed or until is None:
            row.error("away_until", "use user_id=YYYY-MM-DD for people listed in this row")
        elif until < today:
            row.error("away_until", f"{user_id.strip()}: the date has passed")
        else:
            out.append((user_id.strip(), until))
    return tuple(out)


def _people(
    row: _Row, facilitator_id: str, facilitator_name: str, chair_id: str | None
) -> tuple[PersonRow, ...]:
    """Facilitator, chair and members: one Member row each, the facilitator/chair roles win."""
    listed: dict[str, tuple[str, str]] = {}
    for i, chunk in enumerate(c.strip() for c in row.get("members").split(";")):
        if not chunk:
            continue
        parts = [p.strip() for p in chunk.split("|")]
        where = f"member {i + 1}"
        user_id = _user_id(parts[0])
        name = parts[1] if len(parts) > 1 else ""
        agency = parts[2] if len(parts) > 2 else ""
        if len(parts) > 3 or user_id is None or not name:
            row.error("members", f"{where} should be user_id|Display Name|Agency")
            continue
        if len(name) > NAME_LIMIT or len(agency) > NAME_LIMIT:
            row.error("members", f"{where}: name or agency longer than {NAME_LIMIT} characters")
            continue
        if user_id in listed:
            row.error("members", f"{user_id} is listed twice")
            continue
        listed[user_id] = (name, agency)
    people = []
    name, agency = listed.pop(facilitator_id, (facilitator_name, FACILITATOR_AGENCY))
    people.append(PersonRow(facilitator_id, facilitator_name, agency, MemberRole.FACILITATOR))
    if chair_id:
        name, agency = listed.pop(chair_id, (chair_id, ""))
        people.append(PersonRow(chair_id, name, agency, MemberRole.CHAIR))
    people += [PersonRow(uid, n, a, MemberRole.MEMBER) for uid, (n, a) in listed.items()]
    return tuple(people)


def parse_csv(csv_text: str, today: date) -> tuple[list[GroupRow], list[str]]:
    """Every row checked; returns the good rows and every problem found."""
    if len(csv_text) > MAX_CHARS:
        return [], [f"the file is too large (over {MAX_CHARS // 1_000_000} MB); split it up"]
    if "\x00" in csv_text:
        return [], ["the file is not a CSV text file (it looks binary)"]
    text = csv_text.lstrip("\ufeff")
    if not text.strip():
        return [], ["the file is empty; it needs a header row and one row per core group"]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\x00extra")
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        if not set(header) & set(COLUMNS):
            # Probably data in the first row: do not echo it (it may hold a child reference).
            return [], ["the first row must name the columns: " + ",".join(COLUMNS)]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [h for h in header if h not in COLUMNS]
        problems = []
        if missing:
            problems.append(
                "header row: missing column(s) "
                + ", ".join(missing)
                + ". The first row must name the columns: "
                + ",".join(COLUMNS)
            )
        if unknown:
            shown = ", ".join(repr(h[:30]) for h in unknown[:5])
            problems.append(f"header row: unknown column(s) {shown}")
        if len(set(header)) != len(header):
            problems.append("header row: a column is named twice")
        if problems:
            return [], problems
        errors: list[str] = []
        rows: list[GroupRow] = []
        seen_channels: dict[str, int] = {}
        for count, values in enumerate(reader, start=1):
            number = reader.line_num  # the spreadsheet row: the header is row 1
            if count > MAX_ROWS:
                return [], [f"the file has more than {MAX_ROWS} rows; split it up"]
            if values.get("\x00extra"):
                errors.append(f"row {number}: more values than columns (a stray comma?)")
                continue
            if not any((v or "").strip() for v in values.values()):
                continue  # blank line
            parsed = _parse_row(number, values, today, errors)
            if not parsed.channel_id:
                continue
            first = seen_channels.setdefault(parsed.channel_id, number)
            if first != number:
                errors.append(
                    f"row {number}, channel_id: {parsed.channel_id} is also on row {first}"
                )
                continue
            rows.append(parsed)
    except csv.Error as exc:
        return [], [f"the file is not valid CSV ({exc})"]
    if not rows and not errors:
        errors.append("the file has a header row but no core groups")
    return rows, errors


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
        if r.ended_on is not None:
            group.status = GroupStatus.ENDED
            group.ended_at = datetime.combine(r.ended_on, time(), UTC)
        s.add(group)
        await s.flush()
        away = dict(r.away)
        for p in r.people:
            s.add(
                Member(
                    group_id=group.id or 0,
                    user_id=p.user_id,
                    display_name=p.name,
                    agency=p.agency,
                    role=p.role,
                    on_leave_until=away.get(p.user_id),
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
