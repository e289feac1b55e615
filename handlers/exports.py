"""The record as files: Word laid out like Appendix 1, Markdown, and JSON/CSV for case systems.

All of these take a :class:`handlers.records.RecordView`, so the case-file version (key points
only) and the group version come out of the same code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from docx import Document
from docx.shared import Pt
from docx.table import Table
from sqlmodel import col as column
from sqlmodel import select

from handlers import audit
from handlers.access import ensure_org, group_for_channel, is_org_admin, require_facilitator
from handlers.core import Core
from handlers.errors import BadInput, Conflict, NotFound
from handlers.events import Actor
from handlers.messages import Intent, Message, Paragraph, Reply, Upload
from handlers.progress import progress_key
from handlers.records import QuestionView, RecordView, build_record, render_record
from storage.models import ReflectionSession, SessionStatus

TITLE = "Record of Core Group Supervision/Reflection"
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

# Characters XML 1.0 cannot hold (python-docx raises on them): dropped, never fatal.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# A spreadsheet would run a cell starting with these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: object) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def _cell(table: Table, row: int, col: int, text: object, *, bold: bool = False) -> None:
    # The row's own cells: ``table.cell`` rebuilds the whole grid on every call (quadratic).
    paragraph = table.rows[row].cells[col].paragraphs[0]
    paragraph.add_run(_plain(text)).bold = bold


def _answers_line(q: QuestionView) -> str:
    if q.split:
        return f"Split view: {q.tally_text}"
    return q.tally_text or ("No answers" if not q.answers else "")


def record_docx(view: RecordView) -> bytes:
    """A Word document laid out like the Appendix 1 form; all text is added as plain runs."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(TITLE, level=0)
    if view.draft:
        doc.add_paragraph("Draft: the session is still open, so answers may still change.")
    if view.key_points_only:
        doc.add_paragraph(
            "Case file version: the structured answers and the key points only. "
            "Comments and other notes stay with the core group."
        )

    attendees = [p.label + ("" if p.attended else " (did not take part)") for p in view.attendees]
    header = doc.add_table(rows=4, cols=2)
    header.style = "Table Grid"
    for row, (label, value) in enumerate(
        (
            ("Date of supervision", view.date_text),
            ("Facilitator", view.facilitator.label),
            ("Attendees", "\n".join(attendees) or "Nobody has taken part yet."),
            ("Name of child(ren)", view.child_ref),
        )
    ):
        _cell(header, row, 0, label, bold=True)
        _cell(header, row, 1, value)

    doc.add_heading("What is life like for this child?", level=1)
    if view.opening_prompt:
        doc.add_paragraph(_plain(view.opening_prompt))

    doc.add_heading("Questions", level=1)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for col, label in enumerate(("No.", "Question", "Answers", "Agreed position", "Notes")):
        _cell(table, 0, col, label, bold=True)
    for q in view.questions:
        table.add_row()
        row = len(table.rows) - 1
        _cell(table, row, 0, q.number)
        _cell(table, row, 1, (f"{q.section}: " if q.section else "") + q.headline, bold=True)
        _cell(table, row, 2, _answers_line(q), bold=q.split)
        agreed = (q.agreed or "") + (" (key point)" if q.key_point else "")
        _cell(table, row, 3, agreed)
        _cell(table, row, 4, q.agreed_notes or "")
        if not q.answers:
            continue
        # Each member's answer beneath the question, across the full width.
        below = table.add_row().cells
        merged = below[0].merge(below[4])
        for i, a in enumerate(q.answers):
            paragraph = merged.paragraphs[0] if i == 0 else merged.add_paragraph()
            paragraph.add_run(_plain(a.label) + ": ").bold = True
            said = "skipped" if a.skipped else " · ".join(x for x in (a.choice, a.comment) if x)
            paragraph.add_run(_plain(said))

    if view.trajectory is not None and view.trajectory.several:
        path = view.trajectory
        doc.add_heading("Trajectory", level=1)
        doc.add_paragraph(
            _plain(f"The group's answer at each supervision, oldest first: {path.dates_text}")
        )
        lines = doc.add_table(rows=1, cols=2)
        lines.style = "Table Grid"
        _cell(lines, 0, 0, "Question", bold=True)
        _cell(lines, 0, 1, "Answers over time", bold=True)
        for line in path.rows:
            lines.add_row()
            _cell(lines, len(lines.rows) - 1, 0, line.headline)
            _cell(lines, len(lines.rows) - 1, 1, line.path)

    doc.add_heading("How the record will be shared with the family", level=1)
    doc.add_paragraph(_plain(view.family_sharing or "Not agreed yet."))

    doc.add_heading("Actions", level=1)
    if view.actions:
        actions = doc.add_table(rows=1, cols=4)
        actions.style = "Table Grid"
        for col, label in enumerate(("Action", "Owner", "Due", "Status")):
            _cell(actions, 0, col, label, bold=True)
        for item in view.actions:
            actions.add_row()
            row = len(actions.rows) - 1
            for col, value in enumerate((item.text, item.owner_label, item.due_text, item.status)):
                _cell(actions, row, col, value)
    else:
        doc.add_paragraph("No actions agreed.")

    if not view.key_points_only:
        doc.add_heading("Takeaways", level=1)
        doc.add_paragraph(_plain(view.takeaways or "None recorded."))
        doc.add_heading("Themes for the Lead Officer", level=1)
        doc.add_paragraph(_plain(", ".join(view.themes) or "None tagged."))
        doc.add_heading("Escalation", level=1)
        doc.add_paragraph(_plain(view.escalation or "No escalation."))

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


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
            session_id = int(word)
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
            encode(view, wanted.extension),
            title,
            thread_key=progress_key(session_id),
        ),
        Reply(Message(text=said, blocks=(Paragraph((said,)),))),
    ]
