"""``coregroup audit``: read the audit log, verify its keyed hash chain, and anchor it.

``--verify`` exits 1 if the chain was altered; ``--anchor`` prints the head hash and count as one
JSON line for a SIEM; ``--verify --anchor HASH:COUNT`` also proves no newer event was deleted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlmodel import col, select
from typer.core import TyperCommand

from bot import audit_anchor
from bot.bootstrap import open_runtime
from bot.settings import Settings, get_settings
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.governance.privacy import parse_org
from handlers.governance.retention import check_log
from storage.models import AuditEvent, Organisation
from storage.types import utcnow

T = TypeVar("T")
WRITE = "now"  # what a bare --anchor stands for


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


class _AnchorOption(TyperCommand):
    """``--anchor`` alone writes an anchor; ``--anchor HASH:COUNT`` names one to verify against.

    Click options take a value or none, not either; this turns a bare ``--anchor`` into
    ``--anchor=now`` before parsing.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's click Context
        fixed = [
            f"--anchor={WRITE}"
            if arg == "--anchor" and (i + 1 == len(args) or args[i + 1].startswith("-"))
            else arg
            for i, arg in enumerate(args)
        ]
        return super().parse_args(ctx, fixed)


def _verified(events: list[AuditEvent], anchor: audit_anchor.Anchor | None) -> None:
    """Exit 1 with the reason when the chain (or its match with ``anchor``) fails."""
    broken = check_log(events)
    if broken is not None:
        typer.echo(
            f"The audit log has been altered: event {broken.event_id} does not match its "
            f"hash chain: {broken.reason}.",
            err=True,
        )
        raise typer.Exit(code=1)
    mismatch = audit_anchor.check(events, anchor) if anchor else None
    if mismatch is not None:
        typer.echo(f"The audit log does not match the anchor: {mismatch}.", err=True)
        raise typer.Exit(code=1)
    matched = f"; it matches the anchor (event {anchor.count})" if anchor else ""
    typer.echo(f"Audit chain verified: {len(events)} event(s) intact{matched}.", err=True)


def _write_anchor(settings: Settings) -> None:
    """Seal an upgraded log, verify all of it, then print the anchor line (stdout)."""
    now = utcnow()

    async def seal() -> None:
        async with open_runtime(settings) as runtime:
            await audit_anchor.seal(runtime.core.db, now)

    asyncio.run(seal())
    events, _ = asyncio.run(load(settings, None, None))
    _verified(events, None)
    head = events[-1] if events else None
    anchor = audit_anchor.Anchor(head.hash, head.seq) if head else audit_anchor.Anchor("", 0)
    typer.echo(json.dumps(anchor.line(now)))


def register(app: typer.Typer) -> None:
    @app.command(cls=_AnchorOption)
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
        anchor: Annotated[
            str | None,
            typer.Option(
                "--anchor",
                help="Alone: print the head hash and count as a JSON line for your SIEM. "
                "With --verify: HASH:COUNT from such a line; exit 1 if the log no longer "
                "reaches it (newest events deleted, or the chain rewritten).",
            ),
        ] = None,
    ) -> None:
        """Print the audit log (who did what, when; ids only), verify it, or anchor it."""
        settings = get_settings()
        if anchor == WRITE:
            _guarded(lambda: _write_anchor(settings))
            return
        try:
            anchored = audit_anchor.parse(anchor) if anchor else None
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--anchor") from None
        try:
            platform, external = parse_org(org)
        except CoreGroupError as exc:
            raise typer.BadParameter(exc.user_message) from None
        scope = (platform or "", external or "") if org else None
        events, shown = _guarded(lambda: asyncio.run(load(settings, scope, _since(since))))
        for e in shown:
            typer.echo(line(e))
        if verify or anchored:
            _verified(events, anchored)


def _guarded(run: Callable[[], T]) -> T:
    try:
        return run()
    except REFUSABLE as exc:
        typer.echo(as_refusal(exc).user_message, err=True)
        raise typer.Exit(code=1) from None
