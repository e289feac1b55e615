"""The record as files a facilitator files: Word, Markdown, JSON and CSV, and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import select
from test_records import seed_session
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.settings import get_settings
from handlers.base.core import Core
from handlers.records.build import build_record, render_record
from handlers.records.files import (
    CSV_COLUMNS,
    record_csv,
    record_docx,
    record_json,
    record_markdown,
)
from prompts.loader import load_catalogue
from prompts.render import escape_for
from storage.db import Database
from storage.models import ActionItem
from tests.answers import submitted_answer


def _docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return paragraphs, tables


async def test_word_record_is_laid_out_like_the_form(core: Core) -> None:
    seeded = await seed_session(core)
    view = await build_record(core, seeded.session_id)
    paragraphs, tables = _docx_text(record_docx(view))

    assert paragraphs[0] == "Record of Core Group Supervision/Reflection"
    header, questions, actions = tables
    assert header[0] == ["Date of supervision", "Wednesday 1 July 2026"]
    assert header[1] == ["Facilitator", "Rae Officer (Reviewing service)"]
    assert "Pat Police (Police)" in header[2][1]
    assert "Nina Housing (Housing) (did not take part)" in header[2][1]
    assert header[3] == ["Name of child(ren)", "AB-1234"]

    assert questions[0] == ["No.", "Question", "Answers", "Agreed position", "Notes"]
    rows = {row[0]: row for row in questions[1:] if row[0].isdigit()}
    assert sorted(int(n) for n in rows) == list(range(1, 15))
    plan = rows["3"]
    assert plan[1] == "Is the plan working well?"
    assert plan[2] == "Split view: 3 Yes · 2 No"
    assert plan[3] == "No (key point)"
    assert plan[4] == "Plan drifting: father not engaged."
    beneath = questions[questions.index(plan) + 1]
    assert "Pat Police (Police): No · Dad has not been seen since March." in beneath[0]
    assert rows["10"][1] == "The child's voice: What is/are the child(ren) saying?"

    assert actions[0] == ["Action", "Owner", "Due", "Status"]
    assert actions[1][:3] == [
        "Request a housing assessment",
        "Sam Social (Children's social care)",
        "Friday 10 July 2026",
    ]
    assert "Housing delay raised with line managers." in paragraphs


async def test_word_keeps_user_text_plain_and_survives_control_characters(core: Core) -> None:
    # PostgreSQL refuses NUL in text, so the stored comment carries the other XML-illegal ones.
    stored = "a\x07b\x0b\x1b *c* <d> {{ 7*7 }}"
    seeded = await seed_session(core, answers={"plan_working": [("yes", stored)]})
    view = await build_record(core, seeded.session_id)
    plan = next(q for q in view.questions if q.id == "plan_working")
    with_nul = replace(plan, agreed_notes="notes\x00 here")
    view = replace(view, questions=(with_nul,), child_ref="AB\x001234")
    _, tables = _docx_text(record_docx(view))
    text = "\n".join(cell for t in tables for row in t for cell in row)
    assert "ab *c* <d> {{ 7*7 }}" in text
    assert "notes here" in text and "AB1234" in text


async def test_case_file_word_document_has_no_comments_or_group_notes(core: Core) -> None:
    seeded = await seed_session(core)
    view = await build_record(core, seeded.session_id, key_points_only=True)
    paragraphs, tables = _docx_text(record_docx(view))
    everything = "\n".join(paragraphs + [c for t in tables for row in t for c in row])
    assert "Dad has not been seen" not in everything
    assert "Long discussion about the school run" not in everything
    assert "Plan drifting: father not engaged." in everything
    assert "She says she likes her new teacher." in everything
    assert "Takeaways" not in paragraphs


async def test_json_round_trips_with_stable_keys(core: Core) -> None:
    seeded = await seed_session(core)
    view = await build_record(core, seeded.session_id)
    data = json.loads(record_json(view))
    assert data["format"] == "coregroup.record" and data["version"] == 1
    record = data["record"]
    assert record["session_id"] == seeded.session_id
    assert record["date"] == "2026-07-01"
    assert record["child_ref"] == "AB-1234"
    assert [q["id"] for q in record["questions"]] == [q.id for q in view.questions]
    plan = next(q for q in record["questions"] if q["id"] == "plan_working")
    assert plan["tally"] == [
        {"label": "Yes", "count": 3},
        {"label": "No", "count": 2},
        {"label": "Not sure", "count": 0},
    ]
    assert plan["split"] is True and plan["agreed"] == "No"
    assert record["actions"][0]["due"] == "2026-07-10"
    assert record["actions"][0]["owner"] == "Sam Social"
    assert json.loads(json.dumps(data)) == data  # plain data only


async def test_csv_has_one_row_per_member_answer_and_no_formulas(core: Core) -> None:
    seeded = await seed_session(core)
    async with core.db.write() as s:
        s.add(
            submitted_answer(
                session_id=seeded.session_id,
                member_id=seeded.member_ids["Nina Housing"],
                question_id="overly_positive",
                choice="no",
                comment='=HYPERLINK("http://evil","x")',
            )
        )
    view = await build_record(core, seeded.session_id)
    rows = list(csv.DictReader(io.StringIO(record_csv(view))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == sum(len(q.answers) for q in view.questions)
    pat = next(
        r for r in rows if r["question_id"] == "plan_working" and r["member"] == "Pat Police"
    )
    assert pat["choice"] == "No" and pat["agency"] == "Police"
    assert pat["comment"] == "Dad has not been seen since March."
    assert pat["agreed_position"] == "No" and pat["question_number"] == "3"
    nina = next(r for r in rows if r["member"] == "Nina Housing")
    assert nina["comment"].startswith("'=")


async def test_markdown_export_is_the_markdown_record(core: Core) -> None:
    seeded = await seed_session(core)
    view = await build_record(core, seeded.session_id)
    text = record_markdown(view)
    assert text.startswith("# Record of Core Group Supervision/Reflection")
    assert "**Split view: 3 Yes · 2 No**" in text


@pytest.fixture
def file_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("COREGROUP_SETS_DIR", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _seed_file(url: str) -> int:
    db = Database(url)
    try:
        await db.create_all()
        seeded = await seed_session(Core(db=db, sets=load_catalogue()))
        return seeded.session_id
    finally:
        await db.dispose()


async def test_cli_exports_every_format(file_db: str, tmp_path: Path) -> None:
    session_id = await _seed_file(file_db)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["export", "--session", str(session_id), *args])

    md = await asyncio.to_thread(invoke, "--format", "md")
    assert md.exit_code == 0, md.output
    assert "Split view: 3 Yes · 2 No" in md.stdout

    data = await asyncio.to_thread(invoke, "--format", "json", "--key-points-only")
    assert data.exit_code == 0, data.output
    record = json.loads(data.stdout)["record"]
    assert record["key_points_only"] is True
    assert "Dad has not been seen" not in data.stdout

    out = tmp_path / "record.docx"
    word = await asyncio.to_thread(invoke, "--format", "docx", "--out", str(out))
    assert word.exit_code == 0, word.output
    paragraphs, _ = _docx_text(out.read_bytes())
    assert paragraphs[0] == "Record of Core Group Supervision/Reflection"

    rows = await asyncio.to_thread(invoke, "--format", "csv")
    assert rows.exit_code == 0 and rows.stdout.startswith("session_id,date,child_ref")


async def test_cli_refuses_unknown_session_and_docx_without_a_file(file_db: str) -> None:
    await _seed_file(file_db)
    runner = CliRunner()
    missing = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "424242", "--format", "md"]
    )
    assert missing.exit_code == 1
    assert "Session 424242: I couldn't find that session." in missing.stderr
    word = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "1", "--format", "docx"]
    )
    assert word.exit_code == 2 and "--out" in word.stderr


# ---- every format from split, unanimous and missing answers (issue 6, "done when") ----------

TRICKY = "*bold* <b>x</b> & @here {{ 7*7 }}"


async def test_every_format_marks_split_unanimous_and_missing_answers(core: Core) -> None:
    answers = {
        "plan_working": [("yes", None)] * 3 + [("no", None)] * 2,  # split
        "risks_current": [("yes", TRICKY)] + [("yes", None)] * 4,  # unanimous
        # every other question: nobody answered
    }
    seeded = await seed_session(core, answers=answers)
    view = await build_record(core, seeded.session_id)
    for target in ("markdown", "slack", "teams", "html"):
        text = render_record(view, target)
        assert "Split view: 3 Yes · 2 No" in text, target
        assert "Answers: 5 Yes" in text and "Split view: 5 Yes" not in text, target
        assert text.count("No answers.") == len(view.questions) - 2, target
        assert escape_for(target, TRICKY) in text, target
        assert "49" not in text, target

    data = json.loads(record_json(view))["record"]
    by_id = {q["id"]: q for q in data["questions"]}
    assert by_id["plan_working"]["split"] is True and by_id["risks_current"]["split"] is False
    assert by_id["blocking_factors"]["answers"] == []
    comments = [a["comment"] for a in by_id["risks_current"]["answers"]]
    assert TRICKY in comments  # data, not markup

    rows = list(csv.DictReader(io.StringIO(record_csv(view))))
    assert {r["question_id"] for r in rows} == {"plan_working", "risks_current"}

    doc = Document(io.BytesIO(record_docx(view)))
    headings = [
        p.text for p in doc.paragraphs if p.style and p.style.name.startswith(("Heading", "Title"))
    ]
    assert headings == [
        "Record of Core Group Supervision/Reflection",
        "What is life like for this child?",
        "Questions",
        "How the record will be shared with the family",
        "Actions",
        "Takeaways",
        "Themes for the Lead Officer",
        "Escalation",
    ]
    header, questions, actions = (
        [[c.text for c in row.cells] for row in t.rows] for t in doc.tables
    )
    assert [row[0] for row in header] == [
        "Date of supervision",
        "Facilitator",
        "Attendees",
        "Name of child(ren)",
    ]
    assert actions[0] == ["Action", "Owner", "Due", "Status"] and len(actions) == 3
    numbered = {row[0]: row for row in questions[1:] if row[0].isdigit()}
    assert numbered["3"][2] == "Split view: 3 Yes · 2 No"
    assert numbered["1"][2] == "5 Yes"
    assert numbered["4"][2] == "No answers"
    assert any(TRICKY in cell for row in questions for cell in row)  # plain text in Word


async def test_word_without_actions_or_answers_says_so(core: Core) -> None:
    seeded = await seed_session(core, answers={})
    async with core.db.write() as s:
        for item in await s.exec(select(ActionItem)):
            await s.delete(item)
    paragraphs, tables = _docx_text(record_docx(await build_record(core, seeded.session_id)))
    assert len(tables) == 2  # header and questions; no empty actions table
    assert "No actions agreed." in paragraphs
    assert all(row[2] == "No answers" for row in tables[1][1:] if row[0].isdigit())
