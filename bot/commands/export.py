"""``coregroup export``: write a session's record as Word, Markdown, JSON or CSV."""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.bootstrap import open_runtime
from bot.settings import get_settings
from handlers.base import audit
from handlers.base.errors import REFUSABLE, as_refusal
from handlers.base.record_view import RecordView
from handlers.records.build import build_record
from handlers.records.files import record_csv, record_docx, record_json, record_markdown
from storage.models import CoreGroup, ReflectionSession


class ExportFormat(StrEnum):
    DOCX = "docx"
    MD = "md"
    JSON = "json"
    CSV = "csv"


def _encode(view: RecordView, fmt: ExportFormat) -> bytes:
    if fmt is ExportFormat.DOCX:
        return record_docx(view)
    text = {
        ExportFormat.MD: record_markdown,
        ExportFormat.JSON: record_json,
        ExportFormat.CSV: record_csv,
    }[fmt](view)
    return text.encode("utf-8")


async def _build(session_id: int, key_points_only: bool) -> RecordView:
    async with open_runtime(get_settings()) as runtime:  # with the key: sealed text is read
        core = runtime.core
        view = await build_record(core, session_id, key_points_only=key_points_only)
        async with core.db.write() as s:  # who took a copy of a record off the platform
            session = await s.get(ReflectionSession, session_id)
            group = await s.get(CoreGroup, session.group_id) if session else None
            await audit.record(
                s,
                org_id=group.org_id if group else None,
                actor="cli:export",
                action="record.exported",
                subject=f"session:{session_id}",
                at=core.now(),
                key_points_only=key_points_only,
            )
        return view


def export(
    session: Annotated[int, typer.Option("--session", help="The session id to export.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="docx, md, json or csv.")
    ] = ExportFormat.MD,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write. Required for docx; otherwise stdout."),
    ] = None,
    key_points_only: Annotated[
        bool,
        typer.Option(
            "--key-points-only",
            help="The case file version: structured answers and key points, no comments.",
        ),
    ] = False,
) -> None:
    """Write the record of one session (Appendix 1 layout) to a file or stdout."""
    if fmt is ExportFormat.DOCX and out is None:
        typer.echo("A Word document needs a file: add --out record.docx", err=True)
        raise typer.Exit(code=2)
    try:
        view = asyncio.run(_build(session, key_points_only))
    except REFUSABLE as exc:
        typer.echo(f"Session {session}: {as_refusal(exc).user_message}", err=True)
        raise typer.Exit(code=1) from None
    data = _encode(view, fmt)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.write_bytes(data)
    typer.echo(f"Wrote the record of session {session} to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
