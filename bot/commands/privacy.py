"""``coregroup privacy``: subject access export, erasure, retention purge and key management.

These are the information governance team's tools, run by an operator on the server. Each one
that reads or removes personal data is written to the audit log (ids only).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from bot.bootstrap import open_runtime
from bot.settings import get_settings
from handlers.base.core import Core
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.governance import privacy, retention
from storage import crypto

T = TypeVar("T")

app = typer.Typer(
    name="privacy",
    help="Subject access export, erasure, retention purge and encryption keys.",
    no_args_is_help=True,
)


def _run(work: Callable[[Core], Awaitable[T]]) -> T:
    """Run one piece of work against the configured database; refusals (a malformed key too)
    exit with code 1."""

    async def go() -> T:
        async with open_runtime(get_settings()) as runtime:
            return await work(runtime.core)

    try:
        return asyncio.run(go())
    except REFUSABLE as exc:
        typer.echo(as_refusal(exc).user_message, err=True)
        raise typer.Exit(code=1) from None


def _subject(user: str, org: str | None) -> privacy.Subject:
    try:
        platform, external = privacy.parse_org(org)
    except CoreGroupError as exc:
        raise typer.BadParameter(exc.user_message) from None
    return privacy.Subject(platform=platform, user_id=user, org_external_id=external)


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use an ISO date or date-time, e.g. 2026-03-02T10:00") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


UserOpt = Annotated[str, typer.Option("--user", help="The person's platform user id.")]
OrgOpt = Annotated[
    str | None,
    typer.Option("--org", help="Only this organisation, as PLATFORM:ID (slack:T0123)."),
]


@app.command("export")
def export_cmd(
    user: UserOpt,
    org: OrgOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here (default: stdout).")
    ] = None,
) -> None:
    """Subject access: everything stored about one person, decrypted, as JSON."""
    subject = _subject(user, org)
    data = _run(lambda core: privacy.export_user(core, subject))
    body = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(body)
    else:
        out.write_text(body + "\n", encoding="utf-8")
        typer.echo(f"Wrote the subject access export to {out}", err=True)


@app.command("erase")
def erase_cmd(
    user: Annotated[
        str | None, typer.Option("--user", help="Erase this person's answers; anonymise them.")
    ] = None,
    group: Annotated[
        int | None,
        typer.Option("--group", help="Delete this core group and all its sessions and records."),
    ] = None,
    org: OrgOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm; nothing is erased without it.")] = (
        False
    ),
) -> None:
    """Erase one person (--user) or one core group (--group). Needs --yes."""
    if (user is None) == (group is None):
        typer.echo("Give exactly one of --user or --group.", err=True)
        raise typer.Exit(code=2)
    what = f"user {user}" if user is not None else f"group {group}"
    if not yes:
        typer.echo(f"This permanently erases {what}. Run again with --yes to confirm.", err=True)
        raise typer.Exit(code=2)
    if user is not None:
        subject = _subject(user, org)
        result = _run(lambda core: privacy.erase_user(core, subject))
    else:
        scope = privacy.parse_org(org) if org else None
        owner = (scope[0] or "", scope[1] or "") if scope else None
        result = _run(lambda core: privacy.erase_group(core, group or 0, owner))
    typer.echo(f"Erased {what}: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    for note in result.kept:
        typer.echo(f"Kept: {note}")


@app.command("new-key")
def new_key_cmd() -> None:
    """Print a fresh encryption key for COREGROUP_ENCRYPTION_KEY."""
    typer.echo(crypto.new_key())


@app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Re-encrypt all stored text under the first key of COREGROUP_ENCRYPTION_KEY (NEW,OLD)."""
    changed = _run(privacy.rotate_key)
    typer.echo(f"Re-encrypted {changed} value(s). The old key can now be removed.")


@app.command("purge")
def purge_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Pretend it is this time (ISO, UTC).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
) -> None:
    """Apply the retention periods now (answers, records, audit, ledgers)."""
    now = _as_of(as_of)
    report = _run(lambda core: retention.purge(core, now, dry_run=dry_run))
    verb = "Would delete" if dry_run else "Deleted"
    if not report.counts or not report.total:
        typer.echo("Nothing is due for deletion.")
        return
    for what, n in report.counts.items():
        if n:
            typer.echo(f"{verb} {n} {what.replace('_', ' ')}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="privacy")
