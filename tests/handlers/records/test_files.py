"""The record as files a facilitator files: Word, Markdown, JSON and CSV, also asked for with
`/reflect export` in the group channel."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from docx import Document
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.core import Core
from handlers.records.build import build_record, render_record
from handlers.records.files import (
    CSV_COLUMNS,
    record_csv,
    record_docx,
    record_json,
    record_markdown,
)
from prompts.render import escape_for
from storage.models import ActionItem, Answer, AuditEvent, ReflectionSession
from tests.factories.scenarios import session_with_record


def _docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return paragraphs, tables


async def test_word_record_is_laid_out_like_the_form(core: Core) -> None:
    seeded = await session_with_record(core)
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
    # One full-width row per member beneath the question, so no answer is cut between pages.
    start = questions.index(plan) + 1
    beneath = [row[0] for row in questions[start : start + 5]]
    assert "Pat Police (Police): No · Dad has not been seen since March." in beneath
    assert all(": " in cell for cell in beneath)  # each row is one member's answer
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
    seeded = await session_with_record(core, answers={"plan_working": [("yes", stored)]})
    view = await build_record(core, seeded.session_id)
    plan = next(q for q in view.questions if q.id == "plan_working")
    with_nul = replace(plan, agreed_notes="notes\x00 here")
    view = replace(view, questions=(with_nul,), child_ref="AB\x001234")
    _, tables = _docx_text(record_docx(view))
    text = "\n".join(cell for t in tables for row in t for cell in row)
    assert "ab *c* <d> {{ 7*7 }}" in text
    assert "notes here" in text and "AB1234" in text


async def test_case_file_word_document_has_no_comments_or_group_notes(core: Core) -> None:
    seeded = await session_with_record(core)
    view = await build_record(core, seeded.session_id, key_points_only=True)
    paragraphs, tables = _docx_text(record_docx(view))
    everything = "\n".join(paragraphs + [c for t in tables for row in t for c in row])
    assert "Dad has not been seen" not in everything
    assert "Long discussion about the school run" not in everything
    assert "Plan drifting: father not engaged." in everything
    assert "She says she likes her new teacher." in everything
    assert "Takeaways" not in paragraphs


async def test_json_round_trips_with_stable_keys(core: Core) -> None:
    seeded = await session_with_record(core)
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
    seeded = await session_with_record(core)
    async with core.db.write() as s:
        s.add(
            Answer(
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
    seeded = await session_with_record(core)
    view = await build_record(core, seeded.session_id)
    text = record_markdown(view)
    assert text.startswith("# Record of Core Group Supervision/Reflection")
    assert "**Split view: 3 Yes · 2 No**" in text


# ---- every format from split, unanimous and missing answers (issue 6, "done when") ----------

TRICKY = "*bold* <b>x</b> & @here {{ 7*7 }}"


async def test_every_format_marks_split_unanimous_and_missing_answers(core: Core) -> None:
    answers = {
        "plan_working": [("yes", None)] * 3 + [("no", None)] * 2,  # split
        "risks_current": [("yes", TRICKY)] + [("yes", None)] * 4,  # unanimous
        # every other question: nobody answered
    }
    seeded = await session_with_record(core, answers=answers)
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
    seeded = await session_with_record(core, answers={})
    async with core.db.write() as s:
        for item in await s.exec(select(ActionItem)):
            await s.delete(item)
    paragraphs, tables = _docx_text(record_docx(await build_record(core, seeded.session_id)))
    assert len(tables) == 2  # header and questions; no empty actions table
    assert "No actions agreed." in paragraphs
    assert all(row[2] == "No answers" for row in tables[1][1:] if row[0].isdigit())


# ---- `/reflect export` in the group channel: the facilitator gets the record as a file --------


async def _closed_session(bot: ConsoleBackend) -> int:
    """Open, let @hv answer with a comment, close with a key point; returns the session id."""
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    await bot.click("hv", "Yes")
    await bot.click("hv", "Add a comment")
    await bot.submit("hv", {"text": "Comment that stays with the group"})
    await bot.command("ro", "close")
    await bot.submit(
        "ro",
        {
            "pos_risks_current": "yes",
            "notes_risks_current": "Key point for the case file",
            "key_risks_current": True,
            "pos_plan_working": "no",
            "notes_plan_working": "Group-only discussion note",
            "family_sharing": "At the next visit.",
        },
    )
    async with bot.runtime.core.db.read() as s:
        session = (await s.exec(select(ReflectionSession))).one()
    return session.id or 0


def _docx_all_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


async def test_facilitator_gets_the_latest_record_as_word_and_it_is_audited(
    group: ConsoleBackend,
) -> None:
    bot = group
    session_id = await _closed_session(bot)
    before = len(bot.transport.files)  # the close already attached one
    await bot.command("ro", "export")
    assert len(bot.transport.files) == before + 1
    name, content = bot.transport.files[-1]
    assert name == f"core-group-record-{session_id}.docx"
    text = _docx_all_text(content)
    assert "Record of Core Group Supervision/Reflection" in text
    assert "Comment that stays with the group" in text
    assert "on its way to the record's thread" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        events = [e for e in await s.exec(select(AuditEvent)) if e.action == "record.exported"]
    assert len(events) == 1
    assert events[0].subject == f"session:{session_id}" and events[0].actor == "ro"
    assert events[0].detail == {"format": "docx", "key_points_only": False}


async def test_markdown_and_json_by_session_id(group: ConsoleBackend) -> None:
    bot = group
    session_id = await _closed_session(bot)
    await bot.command("ro", f"export {session_id} md")
    name, content = bot.transport.files[-1]
    assert name.endswith(".md")
    assert content.decode().startswith("# Record of Core Group Supervision/Reflection")
    await bot.command("ro", f"export json {session_id}")
    name, content = bot.transport.files[-1]
    data = json.loads(content)
    assert name.endswith(".json") and data["record"]["session_id"] == session_id


async def test_case_file_version_keeps_key_points_only(group: ConsoleBackend) -> None:
    bot = group
    await _closed_session(bot)
    await bot.command("ro", "export casefile")
    name, content = bot.transport.files[-1]
    assert name.endswith("-case-file.docx")
    text = _docx_all_text(content)
    assert "Case file version" in text
    assert "Key point for the case file" in text
    assert "Group-only discussion note" not in text
    assert "Comment that stays with the group" not in text
    assert "case file version" in bot.last_reply("ro").text


async def test_members_cannot_export_and_nothing_is_attached(group: ConsoleBackend) -> None:
    bot = group
    await _closed_session(bot)
    before = len(bot.transport.files)
    await bot.command("hv", "export")
    assert "Only the facilitator can export the record" in bot.last_reply("hv").text
    await bot.command("chair", "export")
    assert "conference chair" in bot.last_reply("chair").text
    assert len(bot.transport.files) == before
    # An admin may: the facilitator set the group up, so is the first admin and can make one.
    await bot.command("ro", "role @hv admin")
    await bot.command("hv", "export md")
    assert len(bot.transport.files) == before + 1


async def test_export_explains_what_it_cannot_do(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "export")
    assert "No supervision has closed here yet" in bot.last_reply("ro").text
    await bot.command("ro", "")
    async with bot.runtime.core.db.read() as s:
        open_id = (await s.exec(select(ReflectionSession))).one().id
    await bot.command("ro", f"export {open_id}")
    assert "hasn't closed yet" in bot.last_reply("ro").text
    await bot.command("ro", "export 999999")
    assert "couldn't find that session in this core group" in bot.last_reply("ro").text
    await bot.command("ro", "export pdf")
    assert "I don't know `pdf` here" in bot.last_reply("ro").text
    assert bot.transport.files == []


async def test_a_session_of_another_group_cannot_be_exported_here(group: ConsoleBackend) -> None:
    bot = group
    session_id = await _closed_session(bot)
    await bot.command(
        "ro",
        "setup child=EF-9999 registered=2026-01-05 facilitator=@ro members=@sw:Social care",
        channel="other-group",
    )
    await bot.command("ro", f"export {session_id}", channel="other-group")
    assert "couldn't find that session" in bot.last_reply("ro").text
