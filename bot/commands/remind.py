"""``coregroup remind``: run one scheduler sweep now (operators, tests) and say what went out.

Only kinds and ids are printed, never a child reference or a name.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.settings import Settings, get_settings
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
    from bot.commands.serve import build_runtime
    from bot.platforms.teams.app import add_teams_transport, auth_configuration, teams_can_send

    runtime = build_runtime(settings)
    # Teams too, as `serve` would: otherwise its rows wait for a server to send them.
    teams = (
        add_teams_transport(runtime, auth_configuration(settings))
        if teams_can_send(settings)
        else None
    )
    if as_of is not None:
        runtime.core.clock = lambda: as_of
    try:
        return await sweep(runtime, now=as_of, dry_run=dry_run)
    finally:
        if teams is not None:
            await teams.connector.close()
        slack = runtime.transports.get("slack")
        if slack is not None and hasattr(slack, "close"):
            await slack.close()
        await runtime.core.db.dispose()


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
        report = asyncio.run(run_once(get_settings(), _as_of(as_of), dry_run))
        verb = "Would send" if dry_run else "Sent"
        for outcome in report.outcomes:
            typer.echo(f"{outcome.result}: {outcome.row}")
        sent = report.count("would send" if dry_run else "sent")
        typer.echo(f"{verb} {sent}; {len(report.outcomes) - sent} held back or dropped.")
