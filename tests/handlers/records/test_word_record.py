"""The Word record a council files: A4 pages with a marked header and numbered footer, tables that
read well across pages, honest document properties, the reader's language, and the trajectory
chart with alt text. Every document is opened again with python-docx, on both backends."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Cm, Mm
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.platforms.console.backend import ConsoleBackend
from bot.settings import get_settings
from handlers.base.core import Core
from handlers.records.build import build_record
from handlers.records.charts import trajectory_chart
from handlers.records.files import record_docx
from handlers.records.trajectory import trajectory
from prompts.loader import load_catalogue
from storage.db import Database
from storage.models import ActionItem, ActionStatus, AgreedPosition, Organisation, ReflectionSession
from tests.conftest import Clock, _fresh
from tests.factories.history import close_with, seed_history
from tests.factories.scenarios import session_with_record

PNG = b"\x89PNG\r\n\x1a\n"
# Labels the English record uses; none may appear in the Welsh one.
ENGLISH_LABELS = (
    "Record of Core Group Supervision",
    "Date of supervision",
    "Facilitator",
    "Attendees",
    "Name of child",
    "What is life like",
    "Questions",
    "Question",
    "Answers",
    "Agreed position",
    "Notes",
    "Split view",
    "key point",
    "did not take part",
    "The child's voice",
    "The family's voice",
    "Trajectory",
    "Answers over time",
    "shared with the family",
    "Actions",
    "Action",
    "Owner",
    "Due",
    "Status",
    "Open",
    "Done",
    "Takeaways",
    "Themes for the Lead Officer",
    "Escalation",
    "Page",
    "Produced on",
    "Yes",
    "Not sure",
    "No owner yet",
    "Wednesday",
    "July",
)


def _open(data: bytes) -> DocxDocument:
    return Document(io.BytesIO(data))


def _header_lines(doc: DocxDocument) -> list[str]:
    return [p.text for p in doc.sections[0].header.paragraphs]


def _footer(doc: DocxDocument) -> tuple[str, list[str]]:
    """The footer's text and the Word fields in it."""
    footer = doc.sections[0].footer
    codes = [c.text.strip() for c in footer._element.iter(qn("w:instrText"))]
    return "\n".join(p.text for p in footer.paragraphs), codes


def _labels(doc: DocxDocument) -> str:
    """Everything the document itself writes around the practitioners' words."""
    texts = [p.text for p in doc.paragraphs if p.style is not None and "Heading" in p.style.name]
    texts += [*_header_lines(doc), _footer(doc)[0]]
    for table in doc.tables:
        texts += [c.text for c in table.rows[0].cells]
    details, questions = doc.tables[0], doc.tables[1]
    texts += [row.cells[0].text for row in details.rows]
    for row in questions.rows[1:]:
        if row.cells[0].text.isdigit():  # the tally and the agreed position
            texts += [row.cells[2].text, row.cells[3].text]
    texts += [row.cells[3].text for row in doc.tables[-1].rows]  # action status
    texts += [doc.core_properties.title, doc.core_properties.subject]
    return "\n".join(texts)


async def test_a4_pages_with_marking_child_and_title_above_and_page_x_of_y_below(
    core: Core,
) -> None:
    seeded = await session_with_record(core)
    produced = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)
    doc = _open(record_docx(await build_record(core, seeded.session_id), produced_at=produced))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert all(abs(m - Cm(2)) < Mm(0.1) for m in margins)
    assert _header_lines(doc) == [
        "OFFICIAL-SENSITIVE",
        "AB-1234 · Record of Core Group Supervision/Reflection",
    ]
    text, fields = _footer(doc)
    assert fields == ["PAGE", "NUMPAGES"]  # Word fills in "Page 3 of 7" on every page
    assert "Page 1 of 1 · Produced on Thursday 2 July 2026" in text
    assert "OFFICIAL-SENSITIVE" in text
    headings = {p.style.name: p.text for p in doc.paragraphs if p.style is not None}
    assert headings["Heading 1"] == "Record of Core Group Supervision/Reflection"
    levels = [p.style.name for p in doc.paragraphs if p.style and p.style.name.startswith("Head")]
    assert set(levels) == {"Heading 1", "Heading 2"} and levels.count("Heading 1") == 1


async def test_tables_repeat_their_header_never_split_a_row_and_fit_their_columns(
    core: Core,
) -> None:
    seeded = await session_with_record(core)
    doc = _open(record_docx(await build_record(core, seeded.session_id)))
    _details, questions, actions = doc.tables
    for table in (questions, actions):
        rows = table._tbl.tr_lst
        assert rows[0].trPr.find(qn("w:tblHeader")) is not None  # repeats on each new page
        assert all(r.trPr.find(qn("w:tblHeader")) is None for r in rows[1:])
    for table in doc.tables:
        assert all(r.trPr.find(qn("w:cantSplit")) is not None for r in table._tbl.tr_lst)
        layout = table._tbl.tblPr.find(qn("w:tblLayout"))
        assert layout is not None and layout.get(qn("w:type")) == "fixed"
        widths = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.gridCol_lst]
        assert sum(widths) == 9638  # 170 mm: the page between its 2 cm margins
    widths = [int(c.get(qn("w:w"))) for c in questions._tbl.tblGrid.gridCol_lst]
    number, question = widths[0], widths[1]
    assert number < 9638 * 0.08 and question == max(widths)  # narrow "No.", wide question
    header = questions._tbl.tr_lst[0]
    assert [int(tc.tcPr.tcW.get(qn("w:w"))) for tc in header.tc_lst] == widths


async def test_properties_name_the_record_and_nothing_of_python_docx_is_left(core: Core) -> None:
    seeded = await session_with_record(core)
    data = record_docx(await build_record(core, seeded.session_id))
    props = _open(data).core_properties
    assert props.title == "Record of Core Group Supervision/Reflection"
    assert props.subject == "Core group supervision for AB-1234 on Wednesday 1 July 2026"
    assert props.author == props.last_modified_by == "Test council"
    assert props.comments == "" and props.language == "en-GB"
    for moment in (props.created, props.modified):
        assert moment is not None
        assert abs(moment.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert not [n for n in package.namelist() if "thumbnail" in n]
        everything = b"".join(package.read(n) for n in package.namelist())
    for leftover in (b"python-docx", b"2013-12-23", b"Macintosh Word"):
        assert leftover not in everything
    styles = _open(data).styles.element
    language = styles.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}"
    )
    assert language is not None and language.get(qn("w:val")) == "en-GB"


async def test_welsh_record_speaks_welsh_throughout(core: Core) -> None:
    seeded = await session_with_record(core)
    async with core.db.write() as s:
        org = (await s.exec(select(Organisation))).one()
        org.language = "cy"
        s.add(org)
    doc = _open(record_docx(await build_record(core, seeded.session_id)))
    labels = _labels(doc)
    english = [w for w in ENGLISH_LABELS if re.search(rf"\b{re.escape(w)}\b", labels)]
    assert english == [], labels
    assert "Cofnod o Oruchwyliaeth/Myfyrio Grŵp Craidd" in _header_lines(doc)[1]
    assert "Barn wedi'i rhannu: 3 Ie · 2 Na" in labels
    assert "Dydd Mercher 1 Gorffennaf 2026" in doc.tables[0].rows[0].cells[1].text
    assert "Tudalen 1 o 1" in _footer(doc)[0]
    styles = doc.styles.element
    language = styles.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}"
    )
    assert language is not None and language.get(qn("w:val")) == "cy-GB"
    assert doc.core_properties.language == "cy-GB"


async def test_every_question_set_in_both_languages_makes_a_case_file_document(
    core: Core,
) -> None:
    seeded = await session_with_record(core)
    for set_id in load_catalogue().ids():
        for lang, title in (("en", "Record of Core Group"), ("cy", "Cofnod o Oruchwyliaeth")):
            async with core.db.write() as s:
                session = await s.get(ReflectionSession, seeded.session_id)
                org = (await s.exec(select(Organisation))).one()
                assert session is not None
                session.set_id, org.language = set_id, lang
                s.add_all([session, org])
            doc = _open(record_docx(await build_record(core, seeded.session_id)))
            assert round(doc.sections[0].page_width.mm) == 210, set_id
            assert title in _header_lines(doc)[1], (set_id, lang)
            questions = doc.tables[1]._tbl.tr_lst
            assert questions[0].trPr.find(qn("w:tblHeader")) is not None, set_id


async def test_key_point_is_never_alone_and_action_status_is_the_real_one(core: Core) -> None:
    seeded = await session_with_record(core)
    async with core.db.write() as s:
        s.add_all(
            [
                AgreedPosition(  # a key point with notes but no position
                    session_id=seeded.session_id,
                    question_id="child_voice",
                    notes="She feels safe at Nan's.",
                    key_point=True,
                    recorded_by="U0",
                ),
                AgreedPosition(  # a key point with nothing to mark
                    session_id=seeded.session_id,
                    question_id="revise_plan",
                    key_point=True,
                    recorded_by="U0",
                ),
            ]
        )
        done = (await s.exec(select(ActionItem).order_by(ActionItem.id))).first()  # type: ignore[arg-type]
        assert done is not None
        done.status = ActionStatus.DONE
        s.add(done)
    doc = _open(record_docx(await build_record(core, seeded.session_id)))
    rows = {r.cells[0].text: r.cells for r in doc.tables[1].rows if r.cells[0].text.isdigit()}
    voice = next(cells for cells in rows.values() if "What is/are the child" in cells[1].text)
    assert voice[3].text == "" and voice[4].text == "She feels safe at Nan's. (key point)"
    revise = next(cells for cells in rows.values() if "revise our plan" in cells[1].text)
    assert "key point" not in revise[3].text + revise[4].text
    assert rows["3"][3].text == "No (key point)"
    statuses = [r.cells[3].text for r in doc.tables[2].rows]
    assert statuses == ["Status", "Done", "Open"]


# ---- the trajectory chart ------------------------------------------------------------------


async def test_chart_with_alt_text_once_there_are_two_supervisions(core: Core) -> None:
    plans = [{"plan_working": ("no", ["no", "no"])}, {"plan_working": ("yes", ["yes"])}]
    _, ids = await seed_history(core, plans, child_ref="CD-5678")
    first = _open(record_docx(await build_record(core, ids[0])))
    assert len(first.inline_shapes) == 0  # one supervision: no line to draw

    data = record_docx(await build_record(core, ids[1]))
    doc = _open(data)
    assert len(doc.inline_shapes) == 1
    picture = doc.inline_shapes[0]
    assert abs(picture.width - Cm(17)) < Mm(1)  # the text width of the page
    alt = picture._inline.docPr.get("descr")
    assert alt.startswith("Chart of the group's answer to 11 Yes or No questions at 2 supervisions")
    assert "Is the plan working well?: No → Yes." in alt
    assert "CD-5678" not in alt
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        images = [n for n in package.namelist() if n.startswith("word/media/")]
        assert len(images) == 1 and package.read(images[0]).startswith(PNG)
    headings = [p.text for p in doc.paragraphs if p.style and p.style.name == "Heading 2"]
    assert headings.index("Questions") < headings.index("Trajectory") < headings.index("Actions")

    without = _open(record_docx(await build_record(core, ids[1]), charts=False))
    assert len(without.inline_shapes) == 0
    assert any(t.rows[0].cells[0].text == "Question" for t in without.tables[2:])


async def test_the_picture_never_depends_on_the_child_reference(core: Core) -> None:
    plans = [{"plan_working": ("no", ["no"])}, {"plan_working": (None, ["yes", "no"])}]
    one, _ = await seed_history(core, plans, child_ref="CD-5678", org_external="T-a")
    other, _ = await seed_history(core, plans, child_ref="Jo Bloggs", org_external="T-b")
    first, second = await trajectory(core, one), await trajectory(core, other)
    assert first.child_ref != second.child_ref
    assert trajectory_chart(first).png == trajectory_chart(second).png
    assert trajectory_chart(first, "cy").png != trajectory_chart(first).png  # Welsh words
    assert "Jo Bloggs" not in trajectory_chart(second).alt


async def test_reflect_trajectory_posts_the_chart_beside_the_text(
    group: ConsoleBackend, clock: Clock
) -> None:
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    await bot.click("hv", "No")
    await close_with(bot, "no")
    files = len(bot.transport.files)
    await bot.command("sw", "trajectory")
    assert len(bot.transport.files) == files  # one supervision: nothing to draw yet
    assert "One supervision so far" in bot.last_reply("sw").text

    clock.advance(days=90)
    await bot.command("ro", "")
    await close_with(bot, "yes")
    files = len(bot.transport.files)
    await bot.command("sw", "trajectory")
    assert "Trajectory · AB-1234" in bot.last_reply("sw").text  # today's text stays
    assert len(bot.transport.files) == files + 1
    name, content = bot.transport.files[-1]
    assert re.fullmatch(r"core-group-trajectory-\d+\.png", name) and content.startswith(PNG)

    await bot.command("stranger", "trajectory")
    assert len(bot.transport.files) == files + 1  # refused: nothing posted


# ---- the marking setting and the demo ------------------------------------------------------


@pytest.fixture
def file_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'word.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("COREGROUP_SETS_DIR", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def test_the_organisation_sets_its_marking_or_none(
    file_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(file_db)
    try:
        await db.create_all()
        seeded = await session_with_record(Core(db=db, sets=load_catalogue()))
    finally:
        await db.dispose()
    out = tmp_path / "record.docx"
    args = ["export", "--session", str(seeded.session_id), "--format", "docx", "--out", str(out)]
    for marking, header in (("OFFICIAL", ["OFFICIAL"]), ("", [])):
        monkeypatch.setenv("COREGROUP_PROTECTIVE_MARKING", marking)
        get_settings.cache_clear()
        result = await asyncio.to_thread(CliRunner().invoke, app, args)
        assert result.exit_code == 0, result.output
        doc = _open(out.read_bytes())
        lines = _header_lines(doc)
        assert lines == [*header, "AB-1234 · Record of Core Group Supervision/Reflection"]
        assert "OFFICIAL-SENSITIVE" not in _footer(doc)[0]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_demo_writes_the_new_record_with_its_trajectory_chart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "record.docx"
    args = ["demo", "--docx", str(out)]
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        await _fresh(url)  # no rows: the demo sets up its organisation from scratch
        args += ["--database", url]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "## Trajectory" in result.stdout  # the printed record gains this section only
    assert "Is the plan working well?** No → Not sure" in result.stdout
    doc = _open(out.read_bytes())
    assert _header_lines(doc) == [
        "OFFICIAL-SENSITIVE",
        "AB-1234 · Record of Core Group Supervision/Reflection",
    ]
    assert len(doc.inline_shapes) == 1
    assert "at 2 supervisions" in doc.inline_shapes[0]._inline.docPr.get("descr")
