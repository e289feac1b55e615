"""The record as files: Word laid out like Appendix 1, Markdown, and JSON/CSV for case systems.

The Word document itself is built in :mod:`handlers.records.word`.

All of these take a :class:`handlers.records.build.RecordView`, so the case-file version (key points
only) and the group version come out of the same code.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlmodel import col as column
from sqlmodel import select

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, is_org_admin, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotFound
from handlers.base.events import Actor
from handlers.base.ids import parse_id
from handlers.base.messages import Intent, Message, Paragraph, Reply, Upload, progress_key
from handlers.base.record_view import RecordView
from handlers.records.build import build_record, render_record
from handlers.records.word import record_docx
from storage.models import ReflectionSession, SessionStatus

JSON_FORMAT = "coregroup.record"
JSON_VERSION = 1
CSV_COLUMNS = (
    "session_id",
    "date",
    "child_ref",
    "question_number",
    "question_id",
    "headline",
    "member",
    "agency",
    "choice",
    "comment",
    "agreed_position",
)

# A spreadsheet would run a cell starting with these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record_markdown(view: RecordView) -> str:
    """The record as a Markdown file (the same template the console shows)."""
    return render_record(view, "markdown")


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record_dict(view: RecordView) -> dict[str, Any]:
    """The record as plain data with stable keys (the JSON export's shape)."""
    data = _jsonable(asdict(view))
    for q, out in zip(view.questions, data["questions"], strict=True):
        # The tally as an ordered list: JSON object order is not guaranteed by every reader.
        out["tally"] = [{"label": k, "count": v} for k, v in q.tally.items()]
        out["section"] = q.section
    return {"format": JSON_FORMAT, "version": JSON_VERSION, "record": data}


def record_json(view: RecordView) -> str:
    """Structured JSON for import into a case management system."""
    return json.dumps(record_dict(view), ensure_ascii=False, indent=2) + "\n"


def _csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def record_csv(view: RecordView) -> str:
    """One row per member answer, for spreadsheets and case systems."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for q in view.questions:
        for a in q.answers:
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        view.session_id,
                        view.date.isoformat(),
                        view.child_ref,
                        q.number,
                        q.id,
                        q.headline,
                        a.member,
                        a.agency,
                        "skipped" if a.skipped else (a.choice or ""),
                        a.comment or "",
                        q.agreed or "",
                    )
                ]
            )
    return out.getvalue()


# ---- from chat: `/reflect export` for the facilitator --------------------------------------

CHAT_FORMATS: dict[str, tuple[str, str]] = {
    # word typed -> (file extension, what people call it)
    "docx": ("docx", "Word"),
    "word": ("docx", "Word"),
    "md": ("md", "Markdown"),
    "markdown": ("md", "Markdown"),
    "json": ("json", "JSON"),
    "csv": ("csv", "CSV"),
}
CASE_FILE_WORDS = frozenset({"casefile", "case-file", "case_file", "--key-points-only"})
EXPORT_USAGE = (
    "Try `/reflect export` (the latest record as Word), `/reflect export 12 md` "
    "or `/reflect export casefile` (key points only)."
)


@dataclass(frozen=True)
class ChatExport:
    """What `/reflect export …` asked for."""

    session_id: int | None = None
    extension: str = "docx"
    key_points_only: bool = False


def parse_export(rest: str) -> ChatExport:
    session_id: int | None = None
    extension = "docx"
    key_points = False
    for word in rest.lower().split():
        if word.isdigit() and session_id is None:
            session_id = parse_id(word)
            if session_id is None:
                raise NotFound()
        elif word in CHAT_FORMATS:
            extension = CHAT_FORMATS[word][0]
        elif word in CASE_FILE_WORDS:
            key_points = True
        else:
            raise BadInput(f"I don't know `{word[:30]}` here. {EXPORT_USAGE}")
    return ChatExport(session_id, extension, key_points)


def encode(view: RecordView, extension: str) -> bytes:
    if extension == "docx":
        return record_docx(view)
    text = {"md": record_markdown, "json": record_json, "csv": record_csv}[extension](view)
    return text.encode("utf-8")


async def export_from_chat(
    core: Core, actor: Actor, channel_id: str | None, rest: str
) -> list[Intent]:
    """Attach a closed session's record in its thread: facilitators and admins only."""
    wanted = parse_export(rest)
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if not await is_org_admin(s, org, actor.user_id):
            await require_facilitator(s, group, actor, "export the record")
        if wanted.session_id is not None:
            session = await s.get(ReflectionSession, wanted.session_id)
            if session is None or session.group_id != group.id:
                raise NotFound("I couldn't find that session in this core group.")
        else:
            session = (
                await s.exec(
                    select(ReflectionSession)
                    .where(
                        ReflectionSession.group_id == group.id,
                        ReflectionSession.status == SessionStatus.CLOSED,
                    )
                    .order_by(
                        column(ReflectionSession.closed_at).desc(),
                        column(ReflectionSession.id).desc(),
                    )
                    .limit(1)
                )
            ).first()
            if session is None:
                raise NotFound("No supervision has closed here yet, so there is no record.")
        if session.status != SessionStatus.CLOSED:
            raise Conflict(
                "That session hasn't closed yet. The record is written when the facilitator "
                "closes it."
            )
        session_id = session.id or 0
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="record.exported",
            subject=f"session:{session_id}",
            at=core.now(),
            format=wanted.extension,
            key_points_only=wanted.key_points_only,
        )
    view = await build_record(core, session_id, key_points_only=wanted.key_points_only)
    # The Word file may draw a chart: off the event loop, like any other slow work.
    content = await asyncio.to_thread(encode, view, wanted.extension)
    kind = next(name for ext, name in CHAT_FORMATS.values() if ext == wanted.extension)
    version = "case file version of the record" if wanted.key_points_only else "record"
    suffix = "-case-file" if wanted.key_points_only else ""
    title = f"Record of core group supervision · {view.child_ref} · {view.date_text}"
    said = (
        f"The {kind} {version} of the supervision on {view.date_text} is on its way "
        "to the record's thread."
    )
    return [
        Upload(
            group.channel_id,
            f"core-group-record-{session_id}{suffix}.{wanted.extension}",
            content,
            title,
            thread_key=progress_key(session_id),
        ),
        Reply(Message(text=said, blocks=(Paragraph((said,)),))),
    ]
