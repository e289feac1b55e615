"""``coregroup audit``: read the audit log and verify its hash chain (exit 1 if it was altered)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlmodel import col, select

from bot.bootstrap import open_runtime
from bot.settings import Settings, get_settings
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.governance.privacy import parse_org
from handlers.governance.retention import verify_log
from storage.models import AuditEvent, Organisation


async def load(
    settings: Settings, org: tuple[str, str] | None, since: datetime | None
) -> tuple[list[AuditEvent], list[AuditEvent]]:
    """(every event, for the chain; the events to print, filtered)."""
    async with open_runtime(settings) as runtime, runtime.core.db.read() as s:
        events = list(await s.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
        org_id: int | None = None
        if org is not None:
            found = (
                await s.exec(
                    select(Organisation).where(
                        Organisation.platform == org[0], Organisation.external_id == org[1]
                    )
                )
            ).first()
            org_id = found.id if found else -1
    shown = [
        e
        for e in events
        if (org is None or e.org_id == org_id) and (since is None or e.at >= since)
    ]
    return events, shown


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use an ISO date, e.g. 2026-03-01") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def line(e: AuditEvent) -> str:
    detail = json.dumps(e.detail, sort_keys=True, separators=(",", ":"), default=str)
    org = "-" if e.org_id is None else str(e.org_id)
    return f"{e.id}\t{e.at.isoformat()}\torg {org}\t{e.actor}\t{e.action}\t{e.subject}\t{detail}"


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        org: Annotated[
            str | None, typer.Option("--org", help="Only this organisation (PLATFORM:ID).")
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only events from this date (ISO).")
        ] = None,
        verify: Annotated[
            bool, typer.Option("--verify", help="Check the hash chain; exit 1 if broken.")
        ] = False,
    ) -> None:
        """Print the audit log (who did what, when; ids only) and verify it."""
        try:
            platform, external = parse_org(org)
        except CoreGroupError as exc:
            raise typer.BadParameter(exc.user_message) from None
        scope = (platform or "", external or "") if org else None
        try:
            events, shown = asyncio.run(load(get_settings(), scope, _since(since)))
        except REFUSABLE as exc:
            typer.echo(as_refusal(exc).user_message, err=True)
            raise typer.Exit(code=1) from None
        for e in shown:
            typer.echo(line(e))
        if not verify:
            return
        bad = verify_log(events)
        if bad is not None:
            typer.echo(
                f"The audit log has been altered: event {bad} does not match its hash chain.",
                err=True,
            )
            raise typer.Exit(code=1)
        typer.echo(f"Audit chain verified: {len(events)} event(s) intact.", err=True)
