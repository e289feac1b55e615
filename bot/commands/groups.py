"""``coregroup groups import FILE.csv``: register many core groups at once from a spreadsheet.

The whole file is checked first; any problem is printed with its row and column and nothing is
imported. ``--dry-run`` checks and reports without writing. The CSV columns are described in
``handlers/groups/importer.py`` and the README.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from bot.bootstrap import open_runtime
from bot.settings import Settings
from handlers.base.errors import REFUSABLE, as_refusal
from handlers.groups.importer import MAX_CHARS, ImportReport, import_groups

DEFAULT_ORG = "console:console"  # the console demo's organisation


def _read(path: Path) -> str:
    """The file as text; a clear message for a file that is missing, huge or not text."""
    try:
        if path.stat().st_size > MAX_CHARS * 4:
            raise typer.BadParameter(f"{path} is too large to be a list of core groups.")
        data = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{path} cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")  # older Excel "CSV" saves
        except UnicodeDecodeError:
            raise typer.BadParameter(
                f"{path} is not a text CSV file. Save it from your spreadsheet as CSV UTF-8."
            ) from None


async def _run(org: tuple[str, str], text: str, dry_run: bool) -> ImportReport:
    async with open_runtime(Settings()) as runtime:
        return await import_groups(runtime.core, org[0], org[1], text, dry_run=dry_run)


def _org(raw: str) -> tuple[str, str]:
    platform, sep, external_id = raw.partition(":")
    if not sep or not platform.strip() or not external_id.strip():
        raise typer.BadParameter("use PLATFORM:EXTERNAL_ID, e.g. slack:T0123 or teams:<tenant>")
    return platform.strip().lower(), external_id.strip()


def register(app: typer.Typer) -> None:
    groups_app = typer.Typer(help="Core groups: bulk import.", no_args_is_help=True)

    @groups_app.command("import")
    def import_(
        file: Annotated[Path, typer.Argument(help="CSV file, one core group per row.")],
        org: Annotated[
            str,
            typer.Option(
                "--org",
                help="PLATFORM:EXTERNAL_ID (Slack team id, Teams tenant id). Default: the console.",
            ),
        ] = DEFAULT_ORG,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Check the file and report; change nothing.")
        ] = False,
    ) -> None:
        """Import core groups from CSV: all rows or none. Columns: child_ref,
        registration_date, pre_birth, rcppm_date, channel_id, facilitator_id,
        facilitator_name, chair_id, members (user_id|Name|Agency;...)."""
        where = _org(org)
        text = _read(file)
        try:
            report = asyncio.run(_run(where, text, dry_run))
        except REFUSABLE as exc:
            typer.echo(as_refusal(exc).user_message, err=True)
            raise typer.Exit(code=1) from None
        for line in report.skipped:
            typer.echo(line)
        for line in report.errors:
            typer.echo(line, err=True)
        typer.echo(report.summary(), err=not report.ok)
        if not report.ok:
            raise typer.Exit(code=1)

    app.add_typer(groups_app, name="groups")
