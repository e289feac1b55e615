"""``coregroup remind``: run one scheduler sweep now (operators, tests) and say what went out.

Only kinds and ids are printed, never a child reference or a name.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.bootstrap import open_runtime
from bot.checks import settings_for_start
from bot.settings import Settings
from bot.sweeper import SweepReport, sweep


def _as_of(value: str | None) -> datetime | None:
    """An ISO date-time; without a zone it is read as UTC."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use an ISO date-time, e.g. 2026-03-02T10:00:00+00:00") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


async def run_once(settings: Settings, as_of: datetime | None, dry_run: bool) -> SweepReport:
    # Every configured platform, as `serve` would: otherwise its rows wait for a server.
    async with open_runtime(settings, platforms=True) as runtime:
        if as_of is not None:
            runtime.core.clock = lambda: as_of
        return await sweep(runtime, now=as_of, dry_run=dry_run)


def register(app: typer.Typer) -> None:
    @app.command()
    def remind(
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Pretend it is this time (ISO, default now, UTC)."),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
        ] = False,
    ) -> None:
        """Send the nudges and reminders that are due now (one scheduler sweep)."""
        settings = settings_for_start()  # the same guard as `coregroup serve`
        report = asyncio.run(run_once(settings, _as_of(as_of), dry_run))
        verb = "Would send" if dry_run else "Sent"
        for outcome in report.outcomes:
            typer.echo(f"{outcome.result}: {outcome.row}")
        sent = report.count("would send" if dry_run else "sent")
        typer.echo(f"{verb} {sent}; {len(report.outcomes) - sent} held back or dropped.")
