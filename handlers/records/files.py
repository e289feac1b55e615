"""The record as files: Word laid out like Appendix 1, Markdown, and JSON/CSV for case systems.

All of these take a :class:`handlers.records.build.RecordView`, so the case-file version (key points
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
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table
from lxml import etree
from sqlmodel import col as column
from sqlmodel import select

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, is_org_admin, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotFound
from handlers.base.events import Actor
from handlers.base.ids import parse_id
from handlers.base.messages import Intent, Message, Paragraph, Reply, Upload, progress_key
from handlers.base.record_view import QuestionView, RecordView
from handlers.records.build import build_record, render_record
from prompts.text import scrub
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
    return _NOT_XML.sub("", "" if value is None else scrub(str(value)))


# WordprocessingML tags, resolved once. Table rows and runs are written as XML directly: going
# through python-docx's objects (add_row, add_run, bold, merge) was ~85 % of the export's time.
_R, _RPR, _B, _T, _BR, _TAB = (qn(f"w:{n}") for n in ("r", "rPr", "b", "t", "br", "tab"))
_P, _TR, _TC, _TCPR, _TCW, _SPAN = (
    qn(f"w:{n}") for n in ("p", "tr", "tc", "tcPr", "tcW", "gridSpan")
)
_VAL, _W, _TYPE = qn("w:val"), qn("w:w"), qn("w:type")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Line breaks and tabs become <w:br/> and <w:tab/>, as python-docx's ``run.text`` does.
_BREAKS = re.compile(r"([\n\r\t])")

Cell = tuple[object, bool]  # (text, bold)


def _run(paragraph: Any, text: object, bold: bool = False) -> None:
    run = etree.SubElement(paragraph, _R)
    if bold:
        etree.SubElement(etree.SubElement(run, _RPR), _B)
    for piece in _BREAKS.split(_plain(text)):
        if piece == "\t":
            etree.SubElement(run, _TAB)
        elif piece in ("\n", "\r"):
            etree.SubElement(run, _BR)
        elif piece:
            t = etree.SubElement(run, _T)
            t.text = piece
            if piece[0].isspace() or piece[-1].isspace():
                t.set(_XML_SPACE, "preserve")


def _new_cell(row: Any, width: int, span: int = 1) -> Any:
    tc = etree.SubElement(row, _TC)
    props = etree.SubElement(tc, _TCPR)
    tcw = etree.SubElement(props, _TCW)
    tcw.set(_W, str(width))
    tcw.set(_TYPE, "dxa")
    if span > 1:
        etree.SubElement(props, _SPAN).set(_VAL, str(span))
    return tc


def _widths(table: Table) -> list[int]:
    return [int(c.get(_W) or 0) for c in table._tbl.tblGrid.gridCol_lst]


def _row(table: Table, cells: list[Cell]) -> None:
    """Append a row of one plain run per cell (a table made with ``rows=0``)."""
    tr = etree.SubElement(table._tbl, _TR)
    for width, (text, bold) in zip(_widths(table), cells, strict=True):
        _run(etree.SubElement(_new_cell(tr, width), _P), text, bold)


def _wide_row(table: Table) -> Any:
    """Append a row of one cell across the table's full width; returns that cell."""
    widths = _widths(table)
    return _new_cell(etree.SubElement(table._tbl, _TR), sum(widths), len(widths))


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
    header = doc.add_table(rows=0, cols=2)
    header.style = "Table Grid"
    for label, value in (
        ("Date of supervision", view.date_text),
        ("Facilitator", view.facilitator.label),
        ("Attendees", "\n".join(attendees) or "Nobody has taken part yet."),
        ("Name of child(ren)", view.child_ref),
    ):
        _row(header, [(label, True), (value, False)])

    doc.add_heading("What is life like for this child?", level=1)
    if view.child_life:
        doc.add_paragraph(_plain(view.child_life))
    if view.opening_prompt:
        doc.add_paragraph(_plain(view.opening_prompt))

    doc.add_heading("Questions", level=1)
    table = doc.add_table(rows=0, cols=5)
    table.style = "Table Grid"
    _row(
        table,
        [(label, True) for label in ("No.", "Question", "Answers", "Agreed position", "Notes")],
    )
    for q in view.questions:
        position = "Group summary" if q.group_summary and q.agreed_notes else (q.agreed or "")
        agreed = position + (" (key point)" if q.key_point else "")
        _row(
            table,
            [
                (q.number, False),
                ((f"{q.section}: " if q.section else "") + q.headline, True),
                (_answers_line(q), q.split),
                (agreed, False),
                (q.agreed_notes or "", False),
            ],
        )
        if not q.answers:
            continue
        # Each member's answer beneath the question, in one cell across the full width.
        below = _wide_row(table)
        for a in q.answers:
            paragraph = etree.SubElement(below, _P)
            _run(paragraph, _plain(a.label) + ": ", bold=True)
            said = "skipped" if a.skipped else " · ".join(x for x in (a.choice, a.comment) if x)
            _run(paragraph, said)

    if view.trajectory is not None and view.trajectory.several:
        path = view.trajectory
        doc.add_heading("Trajectory", level=1)
        doc.add_paragraph(
            _plain(f"The group's answer at each supervision, oldest first: {path.dates_text}")
        )
        lines = doc.add_table(rows=0, cols=2)
        lines.style = "Table Grid"
        _row(lines, [("Question", True), ("Answers over time", True)])
        for line in path.rows:
            _row(lines, [(line.headline, False), (line.path, False)])

    doc.add_heading("How the record will be shared with the family", level=1)
    doc.add_paragraph(_plain(view.family_sharing or "Not agreed yet."))

    doc.add_heading("Actions", level=1)
    if view.actions:
        actions = doc.add_table(rows=0, cols=4)
        actions.style = "Table Grid"
        _row(actions, [(label, True) for label in ("Action", "Owner", "Due", "Status")])
        for item in view.actions:
            values = (item.text, item.owner_label, item.due_text, item.status)
            _row(actions, [(value, False) for value in values])
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
