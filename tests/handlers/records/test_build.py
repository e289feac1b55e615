"""The compiled record: what a facilitator checks before filing it, on both backends."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from handlers.base.core import Core
from handlers.base.errors import NotFound
from handlers.base.record_view import RecordView
from handlers.records.build import build_record, render_record, split_for_limit
from prompts.render import escape_for, escape_markdown
from storage.models import Member, ReflectionSession
from tests.factories.scenarios import ANSWERING, session_with_record

TARGETS = ("markdown", "slack", "teams", "html")


async def test_record_lists_every_question_in_order_with_header_fields(core: Core) -> None:
    seeded = await session_with_record(core)
    view = await build_record(core, seeded.session_id)
    qset = core.sets.get("appendix1")
    assert [q.id for q in view.questions] == [q.id for q in qset.questions]
    assert [q.number for q in view.questions] == list(range(1, 15))
    assert view.date == date(2026, 7, 1)
    assert view.facilitator.label == "Rae Officer (Reviewing service)"
    assert view.child_ref == "AB-1234"
    names = {p.name: p.attended for p in view.attendees}
    assert names["Nina Housing"] is False
    assert all(names[n] for n, _ in ANSWERING)
    assert "Rae Officer" not in names  # shown once, as the facilitator
    assert view.themes == ("Parental engagement", "housing pressure")
    assert hash(view) == hash(await build_record(core, seeded.session_id))  # a frozen value

    md = render_record(view, "markdown")
    positions = [md.index(f"### {q.number}. {escape_markdown(q.headline)}") for q in view.questions]
    assert positions == sorted(positions)
    assert "Wednesday 1 July 2026" in md
    assert "Record of Core Group Supervision/Reflection" in md
    assert "What is life like for this child?" in md


async def test_split_question_is_marked_with_its_counts_and_unanimous_is_not(core: Core) -> None:
    seeded = await session_with_record(core)
    view = await build_record(core, seeded.session_id)
    by_id = {q.id: q for q in view.questions}
    assert dict(by_id["plan_working"].tally) == {"Yes": 3, "No": 2, "Not sure": 0}
    assert by_id["plan_working"].split
    assert by_id["new_risks"].split  # 4 No and 1 Not sure is still a split
    assert not by_id["risks_current"].split
    assert by_id["overly_negative"].answers == ()
    for target in TARGETS:
        text = render_record(view, target)
        assert "Split view: 3 Yes · 2 No" in text, target
        assert "Split view: 4 No · 1 Not sure" in text, target
        assert "Split view: 5 Yes" not in text, target
        assert "Answers: 5 Yes" in text, target


async def test_agreed_positions_comments_by_agency_voices_and_actions_appear(core: Core) -> None:
    seeded = await session_with_record(core)
    view = await build_record(core, seeded.session_id)
    plan = next(q for q in view.questions if q.id == "plan_working")
    assert plan.agreed == "No" and plan.key_point
    assert ("Pat Police", "Police", "No") in [(a.member, a.agency, a.choice) for a in plan.answers]
    sections = {q.id: q.section for q in view.questions if q.section}
    assert sections == {
        "child_voice": "The child's voice",
        "family_voice": "The family's voice",
        "contingency_adequate": "Contingency plan",
        "revise_plan": "Revising the plan",
    }

    html = render_record(view, "html")
    assert "Pat Police (Police):</strong> No · <span" in html
    assert "Dad has not been seen since March.</span>" in html
    assert "Agreed position:</strong> No (key point)" in html
    assert "Plan drifting: father not engaged." in html
    assert "The child&#39;s voice" in html
    assert "She says she likes her new teacher." in html
    assert "Mum wants help with housing." in html
    assert "Request a housing assessment" in html
    assert "<td>Sam Social (Children&#39;s social care)</td><td>Friday 10 July 2026</td>" in html
    assert "The social worker will go through it with Mum on Friday." in html
    assert "Housing delay raised with line managers." in html

    slack = render_record(view, "slack")
    assert "Pat Police (Police):* No · Dad has not been seen since March." in slack
    assert "Request a housing assessment · *Owner:* Sam Social" in slack
    assert "*Due:* Friday 10 July 2026" in slack


async def test_key_points_only_keeps_structure_and_drops_comments_and_group_notes(
    core: Core,
) -> None:
    seeded = await session_with_record(core)
    full = await build_record(core, seeded.session_id)
    view = await build_record(core, seeded.session_id, key_points_only=True)
    assert view.key_points_only
    plan = next(q for q in view.questions if q.id == "plan_working")
    assert dict(plan.tally) == {"Yes": 3, "No": 2, "Not sure": 0} and plan.split
    assert all(a.comment is None for a in plan.answers)
    assert [a.choice for a in plan.answers] == [
        a.choice for a in next(q for q in full.questions if q.id == "plan_working").answers
    ]
    for target in TARGETS:
        text = render_record(view, target)
        assert "Dad has not been seen" not in text, target
        assert "Long discussion about the school run" not in text, target
        assert escape_for(target, "Plan drifting: father not engaged.") in text, target
        # The child's voice stays in the case file.
        assert escape_for(target, "She says she likes her new teacher.") in text, target
        assert "Request a housing assessment" in text, target
        assert "Ask the child directly" not in text, target  # takeaways stay with the group
        assert "Housing delay raised" not in text, target
        assert "Parental engagement" not in text, target
        assert "Split view: 3 Yes · 2 No" in text, target


async def test_open_session_is_a_draft_dated_when_it_opened(core: Core) -> None:
    seeded = await session_with_record(core, closed=False)
    view = await build_record(core, seeded.session_id)
    assert view.draft and view.date == date(2026, 6, 29)
    assert "Draft: the session is still open" in render_record(view, "markdown")


async def test_unknown_session_is_a_clear_not_found(core: Core) -> None:
    with pytest.raises(NotFound) as err:
        await build_record(core, 987654)
    assert "couldn't find that session" in err.value.user_message


INJECTIONS = {
    "channel": "<!channel> look",
    "user": "ping <@U999>",
    "here": "hey @here and @channel and @everyone",
    "link": "<https://evil.example|click>",
    "bold": "*bold* _it_ ~gone~ `code`",
    "template": "{{ 7*7 }} {% raw %}x{% endraw %}",
    "teams_at": "<at>Boss</at>",
    "script": "<script>alert(1)</script>",
}


async def _injected_view(core: Core) -> RecordView:
    text = " | ".join(INJECTIONS.values())
    seeded = await session_with_record(
        core,
        answers={"plan_working": [("yes", text), ("no", "plain")], "child_voice": [(None, text)]},
    )
    async with core.db.write() as s:
        session = await s.get(ReflectionSession, seeded.session_id)
        assert session is not None
        session.takeaways = text
        session.escalation = text
        s.add(session)
        member = await s.get(Member, seeded.member_ids["Sam Social"])
        assert member is not None
        member.display_name = "<!here> Sam @channel"
        s.add(member)
    return await build_record(core, seeded.session_id)


async def test_user_text_cannot_ping_link_format_or_run_in_slack(core: Core) -> None:
    text = render_record(await _injected_view(core), "slack")
    assert not re.search(r"<[!@#]", text), "a mention or broadcast survived"
    assert "<https://evil" not in text and "<at>" not in text and "<script" not in text
    assert not re.search(r"(?<![\u2060\w])@(here|channel|everyone)\b", text)
    assert "&lt;!channel&gt; look" in text
    assert "&lt;@U999&gt;" in text
    assert "*bold*" not in text and "`code`" not in text and "_it_" not in text
    assert "49" not in text and "{{ 7" in text and "{% raw %}" in text


async def test_user_text_is_inert_in_markdown_and_teams(core: Core) -> None:
    view = await _injected_view(core)
    for target in ("markdown", "teams"):
        text = render_record(view, target)
        assert "<at>" not in text and "<script" not in text and "<https" not in text, target
        assert "&lt;at&gt;Boss&lt;/at&gt;" in text, target
        assert r"\*bold\*" in text and r"\_it\_" in text and r"\`code\`" in text, target
        assert "49" not in text and r"{{ 7\*7 }}" in text, target  # shown, never evaluated
        assert "{% raw %}x{% endraw %}" in text, target
        assert not re.search(r"(?<![\u2060\w])@(here|channel|everyone)\b", text), target


async def test_user_text_is_escaped_in_html(core: Core) -> None:
    text = render_record(await _injected_view(core), "html")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;at&gt;Boss&lt;/at&gt;" in text and "<at>" not in text
    assert "{{ 7*7 }} {% raw %}x{% endraw %}" in text and "49" not in text


def test_split_for_limit_never_cuts_an_escape_and_keeps_everything() -> None:
    paragraph = "Tom &amp; Jerry said \\*no\\* &lt;!channel&gt; " * 40
    text = "*Header*\n\n" + paragraph + "\n\n" + "• short line\n" * 50
    for limit in (17, 40, 100, 3000):
        chunks = split_for_limit(text, limit)
        assert all(len(c) <= limit for c in chunks), limit
        for c in chunks:
            assert not re.search(r"&[a-z]*$", c), (limit, c[-12:])
            assert not c.endswith("\\") or c.endswith("\\\\")
        squashed = re.sub(r"\s+", "", "".join(chunks))
        assert squashed == re.sub(r"\s+", "", text)
    assert split_for_limit("short", 100) == ["short"]


async def test_large_record_builds_in_few_queries_and_quickly(core: Core) -> None:
    many = {
        q.id: [("yes" if i % 3 else "no", f"Comment {i} on {q.id}") for i in range(20)]
        for q in core.sets.get("appendix1").questions
        if q.kind == "yes_no"
    }
    seeded = await session_with_record(core, answers=many, extra_members=15)
    statements: list[str] = []
    from sqlalchemy import event

    engine = core.db._reader.sync_engine

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        view = await build_record(core, seeded.session_id)
        for target in TARGETS:
            render_record(view, target)
        elapsed = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # Eight for the session itself, three for the trajectory: none per member or question.
    assert len(selects) <= 11, selects
    assert sum(len(q.answers) for q in view.questions) == 20 * 11
    assert elapsed < 5
