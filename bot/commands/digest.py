"""``coregroup digest``: print the Lead Officer digest (Markdown) for one organisation.

``--docx FILE`` also writes it as a Word report with charts.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from bot.bootstrap import open_runtime
from bot.settings import get_settings
from handlers.base.core import Core
from handlers.base.errors import REFUSABLE, CoreGroupError, as_refusal
from handlers.oversight.digest import build_digest, digest_markdown, parse_month
from handlers.oversight.digest_word import digest_docx, digest_months
from storage.models import Organisation


async def _org_id(core: Core, wanted: str | None) -> int:
    async with core.db.read() as s:
        orgs = list(await s.exec(select(Organisation).order_by(Organisation.id)))  # type: ignore[arg-type]
    if wanted:
        platform, _, external = wanted.partition(":")
        for org in orgs:
            if org.platform == platform and org.external_id == external:
                return org.id or 0
        raise CoreGroupError(f"No organisation {wanted!r}. Use PLATFORM:ID, e.g. slack:T0123.")
    if len(orgs) == 1:
        return orgs[0].id or 0
    if not orgs:
        raise CoreGroupError("There are no organisations in this database yet.")
    known = ", ".join(f"{o.platform}:{o.external_id}" for o in orgs)
    raise CoreGroupError(f"There are several organisations; choose one with --org ({known}).")


async def _digest(
    org: str | None, month: str | None, min_count: int | None, docx: Path | None
) -> str:
    async with open_runtime(get_settings()) as runtime:
        core = runtime.core
        org_id = await _org_id(core, org)
        if month:
            first = parse_month(month)
        else:
            today = core.now().date()
            first = date(today.year, today.month, 1)
        view = await build_digest(core, org_id, first, min_count=min_count)
        if docx is not None:
            await _write_docx(core, org_id, first, min_count, docx)
        return digest_markdown(view)


async def _write_docx(
    core: Core, org_id: int, month: date, min_count: int | None, out: Path
) -> None:
    """The Word report: this month's digest with charts over the months before it."""
    views = await digest_months(core, org_id, month, min_count=min_count)
    async with core.db.read() as s:
        org = await s.get(Organisation, org_id)
    data = await asyncio.to_thread(
        digest_docx,
        views,
        author=org.name if org else "",
        marking=core.protective_marking,
        lang=org.language if org else "en",
        timezone=org.timezone if org else core.default_timezone,
    )
    await asyncio.to_thread(out.write_bytes, data)


def digest(
    org: Annotated[
        str | None,
        typer.Option("--org", help="PLATFORM:ID (e.g. slack:T0123); needed with several."),
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM; default this month so far.")
    ] = None,
    min_count: Annotated[
        int | None,
        typer.Option(
            "--min-count",
            min=1,
            help="Suppress counts below this (default COREGROUP_DIGEST_MIN_COUNT, 5).",
        ),
    ] = None,
    docx: Annotated[
        Path | None,
        typer.Option("--docx", help="Also write the digest as a Word report with charts."),
    ] = None,
) -> None:
    """Print the Lead Officer digest: anonymised counts and trends across all core groups."""
    try:
        text = asyncio.run(_digest(org, month, min_count, docx))
    except REFUSABLE as exc:
        typer.echo(as_refusal(exc).user_message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(text)
    if docx is not None:
        typer.echo(f"Word report written to {docx}", err=True)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
