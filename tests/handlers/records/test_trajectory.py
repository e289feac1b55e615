"""A child's trajectory: the group's Yes/No answers across its supervisions, on both backends."""

from __future__ import annotations

import io

from docx import Document

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.core import Core
from handlers.base.messages import RecordBlock
from handlers.base.record_view import TrajectoryRow, TrajectoryView
from handlers.records.build import Target, build_record, render_record
from handlers.records.files import record_docx
from handlers.records.trajectory import trajectory
from storage.models import SessionStatus
from tests.conftest import Clock
from tests.factories.history import close_with, seed_history

TARGETS: tuple[Target, ...] = ("markdown", "slack", "teams", "html")


def _row(view: TrajectoryView, qid: str) -> TrajectoryRow:
    return next(r for r in view.rows if r.question_id == qid)


async def test_agreed_positions_make_the_line_oldest_first(core: Core) -> None:
    group_id, _ = await seed_history(
        core,
        [
            {"plan_working": ("no", ["yes", "yes", "yes"])},  # agreed beats the members' view
            {"plan_working": ("no", [])},
            {"plan_working": ("yes", ["no"])},
        ],
        extra=[SessionStatus.OPEN, SessionStatus.CANCELLED],
    )
    view = await trajectory(core, group_id)
    assert view.several and len(view.sessions) == 3  # open and cancelled ones are not on it
    assert view.dates_text == "10 Jun 2025 → 10 Dec 2025 → 10 Jun 2026"
    assert _row(view, "plan_working").path == "No → No → Yes"
    qset = core.sets.get("appendix1")
    yes_no = [q.id for q in qset.questions if q.kind == "yes_no"]
    assert [r.question_id for r in view.rows] == yes_no  # free-text questions have no line
    assert _row(view, "plan_working").headline == "Is the plan working well?"


async def test_without_an_agreed_position_the_majority_is_marked_and_a_tie_is_a_dash(
    core: Core,
) -> None:
    group_id, _ = await seed_history(
        core,
        [
            {"risks_current": (None, ["yes", "yes", "no"]), "new_risks": (None, ["yes", "no"])},
            {"risks_current": ("no", []), "new_risks": (None, ["not_sure", "not_sure"])},
        ],
    )
    view = await trajectory(core, group_id)
    assert _row(view, "risks_current").path == "Yes (no agreed position) → No"
    assert _row(view, "new_risks").path == "– → Not sure (no agreed position)"
    assert _row(view, "plan_working").path == "– → –"  # nobody answered


async def test_record_shows_the_trajectory_up_to_that_supervision_in_every_format(
    core: Core,
) -> None:
    _, ids = await seed_history(
        core,
        [
            {"plan_working": ("no", [])},
            {"plan_working": ("no", [])},
            {"plan_working": ("yes", [])},
        ],
    )
    second = await build_record(core, ids[1])
    assert second.trajectory is not None and len(second.trajectory.sessions) == 2
    for target in TARGETS:
        text = render_record(second, target)
        assert "Trajectory" in text, target
        if target == "html":  # a table: one column per supervision
            assert "<td>No</td><td>No</td></tr>" in text and "<td>Yes</td>" not in text
        else:
            assert "No → No" in text and "No → No → Yes" not in text, target
        # The section comes after the questions and before the family sharing.
        assert text.index("Trajectory") > text.index("Is the plan working well?"), target
        assert text.index("Trajectory") < text.index("shared with the family"), target
    first = await build_record(core, ids[0])
    for target in TARGETS:
        assert "Trajectory" not in render_record(first, target), target
    doc = Document(io.BytesIO(record_docx(await build_record(core, ids[2]))))
    headings = [p.text for p in doc.paragraphs if p.style and p.style.name.startswith("Heading")]
    assert headings.index("Questions") < headings.index("Trajectory") < headings.index("Actions")
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Question")
    plan = next(r for r in table.rows if r.cells[0].text == "Is the plan working well?")
    assert plan.cells[1].text == "No → No → Yes"


# ---- whole flow through the router ------------------------------------------------------------


async def test_trajectory_in_the_second_record_and_on_request(
    group: ConsoleBackend, clock: Clock
) -> None:
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    for label in ("Yes", "No", "Yes"):  # risks, new risks, plan working
        await bot.click("hv", label)
    await close_with(bot, "no")
    clock.advance(days=180)
    await bot.command("ro", "")
    await close_with(bot, None)
    records = [m for m in bot.channel_log() if isinstance(m.message.blocks[0], RecordBlock)]
    assert len(records) == 2
    assert "Trajectory" not in records[0].text
    assert "Trajectory" in records[1].text
    assert "No → –" in records[1].text

    await bot.command("sw", "trajectory")
    shown = bot.last_reply("sw").text
    assert "Trajectory · AB-1234" in shown
    assert "Is the plan working well?: No → –" in shown
    assert "oldest first" in shown and shown.count(" → ") >= 10  # every Yes/No question

    await bot.command("stranger", "trajectory")
    assert "Only members of this core group" in bot.last_reply("stranger").text
    assert "Trajectory" not in bot.last_reply("stranger").text


async def test_trajectory_before_any_supervision_says_so(group: ConsoleBackend) -> None:
    await group.command("ro", "trajectory")
    assert "No supervision has been recorded" in group.last_reply("ro").text
