"""Only submitted answers leave a member, and a session keeps its questions, over Slack.

Four members: two submit (their views differ), two stop mid-dialogue with private words typed
(one of them waiting to type more: ``awaiting_text``). Meanwhile the YAML set gains a question
at the top. The facilitator is asked to confirm before closing, the split view needs a position,
and nothing of the two who did not submit reaches the close form, the thread, a DM, the Word
file, the CSV, the digest or the trajectory; the new question appears nowhere in the session.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from handlers.oversight.digest import build_digest
from handlers.records.build import build_record
from handlers.records.files import record_csv
from handlers.records.trajectory import trajectory
from prompts.schema import Question
from storage.models import Answer, Member, Participation, ReflectionSession, SessionStatus
from tests.bot.platforms.slack.slack_screens import (
    SlackScreen,
    answer_everything,
    buttons_of,
    press,
    submit_latest_form,
)
from tests.fakes.slack_api import SlackHarness, slash_command, view_submission

RO, SAM, HV, LEFT1, LEFT2 = "U0RO0001", "U0SAM001", "U0HV0001", "U0LFT001", "U0LFT002"
CHANNEL = "C0GROUP01"
PRIVATE_1, PRIVATE_2 = "UNSUBMITTED-WORDS-ONE", "UNSUBMITTED-WORDS-TWO"
INSERTED = "INSERTED-AT-THE-TOP: a question added while the session was open"


def insert_a_question_at_the_top(slack: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an admin editing prompts/sets/appendix1*.yaml (then restarting) would cause."""
    catalogue = slack.core.sets
    for key, qset in list(catalogue.sets.items()):
        if key[0] == "appendix1":
            new = Question(id="inserted_first", headline=INSERTED, kind="yes_no")
            changed = qset.model_copy(update={"questions": (new, *qset.questions)})
            monkeypatch.setitem(catalogue.sets, key, changed)


def dm_actions(slack: SlackHarness, user: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    latest = SlackScreen(slack).latest_touched("D" + user)
    assert latest is not None
    ts, blocks = latest
    found: dict[str, list[dict[str, Any]]] = {}
    for b in buttons_of(blocks):
        found.setdefault(b["action_id"].split("~")[0], []).append(b)
    return ts, found


async def start_and_stop(slack: SlackHarness, user: str, words: str, choice: str) -> None:
    """Start, comment on question 1 and answer it, then walk away."""
    ts, acts = dm_actions(slack, user)
    await press(slack, user, "D" + user, ts, acts["dlg.start"][0])
    ts, acts = dm_actions(slack, user)
    await press(slack, user, "D" + user, ts, acts["dlg.comment"][0])
    await submit_latest_form(slack, user, {"text": words})
    ts, acts = dm_actions(slack, user)
    [pick] = [b for b in acts["dlg.answer"] if b["value"].endswith(":" + choice)]
    await press(slack, user, "D" + user, ts, pick)


def sent_to_others(slack: SlackHarness, author: str) -> str:
    """Everything Slack received except the author's own DM and their own answer forms."""
    shown = []
    for c in slack.fake.calls:
        if c.body.get("channel") == "D" + author:
            continue
        view = c.body.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if c.method.startswith("views.") and (view or {}).get("callback_id") != "session.close":
            continue  # a member's own answer form (checked: the close form is not skipped)
        shown.append(c.body)
    return json.dumps(shown, ensure_ascii=False)


async def test_unsubmitted_answers_and_a_changed_set_never_reach_the_record(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = slack.fake
    fake.allowed_mentions = {RO, SAM, HV, LEFT1, LEFT2}
    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care;<@{HV}|hv>:Health visiting;"
        f"<@{LEFT1}|lee>:Education;<@{LEFT2}|lou>:Police"
    )
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    assert (await slack.send(slash_command("", user=RO, channel=CHANNEL))).status == 200
    insert_a_question_at_the_top(slack, monkeypatch)

    await answer_everything(slack, SAM, "yes", "Sam's submitted view")
    await answer_everything(slack, HV, "no", "Hana's submitted view")
    await start_and_stop(slack, LEFT1, PRIVATE_1, "no")
    await start_and_stop(slack, LEFT2, PRIVATE_2, "not_sure")
    ts, acts = dm_actions(slack, LEFT2)  # Lou starts to type a comment on question 2 …
    await press(slack, LEFT2, "D" + LEFT2, ts, acts["dlg.comment"][0])
    async with slack.core.db.read() as s:
        states = {
            m.user_id: p.state
            for p, m in await s.exec(
                select(Participation, Member).join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
            )
        }
        sam_answers = (await s.exec(select(Answer).join(Member).where(Member.user_id == SAM))).all()
    assert states[LEFT1] == "answering" and states[LEFT2] == "awaiting_text"
    assert len(sam_answers) == 14 and "inserted_first" not in {a.question_id for a in sam_answers}

    # The channel's progress says who started without submitting, never what they said.
    progress_ts, progress = next(
        (ts, blocks)
        for ts, blocks in SlackScreen(slack).messages(CHANNEL).items()
        if any(b["action_id"].startswith("session.close") for b in buttons_of(blocks))
    )
    shown = json.dumps(progress)
    assert shown.count("started, not yet submitted") == 2
    assert PRIVATE_1 not in shown

    # Close: first a private question, with a reminder offered; then the form.
    close = next(b for b in buttons_of(progress) if b["action_id"].startswith("session.close"))
    views_before = len(fake.views)
    await press(slack, RO, CHANNEL, progress_ts, close)
    assert len(fake.views) == views_before, "no form before the facilitator confirms"
    [confirm] = [
        c for c in fake.delivered("chat.postMessage") if "did not submit" in c.body["text"]
    ]
    assert confirm.body["channel"] == "D" + RO, "asked privately"
    assert "lee, lou started but did not submit" in confirm.body["text"]
    labels = {b["text"]["text"]: b for b in buttons_of(confirm.body["blocks"])}
    assert set(labels) == {"Remind them first", "Close now"}
    assert all("style" not in b for b in labels.values()), "neutral buttons"
    await press(slack, RO, "D" + RO, confirm.response["ts"], labels["Close now"])
    form = fake.views[-1]
    assert form["callback_id"] == "session.close"
    form_text = json.dumps(form, ensure_ascii=False)
    assert PRIVATE_1 not in form_text and PRIVATE_2 not in form_text
    assert "1 Yes · 1 No" in form_text  # question 1: the two submitted answers only
    assert INSERTED not in form_text
    first_input = next(b for b in form["blocks"] if b.get("type") == "input")
    assert first_input["label"]["text"] == "What is life like for this child?"

    # A split view left without a position is refused kindly; the modal stays open.
    picks: dict[str, Any] = {"family_sharing": "At the next visit."}
    refused = await slack.send(view_submission(form, picks, user=RO))
    assert json.loads(refused.text)["response_action"] == "errors"
    assert "the answers differ" in refused.text
    for block in form["blocks"]:
        el = block.get("element", {})
        if block.get("type") == "input" and el.get("type") == "static_select":
            picks[el["action_id"]] = "not_agreed"
            picks[el["action_id"].replace("pos_", "notes_")] = "We see it differently."
    picks["child_life"] = "Busy at school, quiet at home."
    picks["notes_child_voice"] = "She wants to stay at her school."
    assert (await slack.send(view_submission(form, picks, user=RO))).status == 200

    async with slack.core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()
        left = (
            await s.exec(select(Answer).join(Member).where(Member.user_id.in_([LEFT1, LEFT2])))  # type: ignore[attr-defined]
        ).all()
        org_id = (await s.exec(select(Member))).first()
    assert session.status == SessionStatus.CLOSED
    assert left == [], "their unsubmitted drafts are deleted at close"

    thread = [
        c
        for c in fake.delivered("chat.postMessage")
        if c.body.get("thread_ts") == progress_ts and c.body.get("channel") == CHANNEL
    ]
    record_text = json.dumps([c.body for c in thread], ensure_ascii=False)
    assert "AB-1234" in record_text and "Busy at school, quiet at home." in record_text
    assert "Not agreed" in record_text and "We see it differently." in record_text
    assert "Group summary" in record_text and "She wants to stay at her school." in record_text
    assert "o position recorded" not in record_text
    assert "Lee" not in record_text or "did not take part" in record_text
    assert PRIVATE_1 not in sent_to_others(slack, LEFT1)
    assert PRIVATE_2 not in sent_to_others(slack, LEFT2)
    assert INSERTED not in json.dumps([c.body for c in fake.calls], ensure_ascii=False)
    dm_copies = [
        c
        for c in fake.delivered("chat.postMessage")
        if c.body.get("channel", "").startswith("D") and "Record" in str(c.body)
    ]
    assert len(dm_copies) >= 4, "every member gets the record, with nothing unsubmitted in it"
    assert fake.of("files.completeUploadExternal"), "the Word file went with the record"

    # Exports, the digest and the trajectory see the two submitted answers only.
    view = await build_record(slack.core, session.id or 0)
    csv_text = record_csv(view)
    assert PRIVATE_1 not in csv_text and PRIVATE_2 not in csv_text and INSERTED not in csv_text
    assert {row["member"] for row in csv.DictReader(io.StringIO(csv_text))} == {"sam", "hv"}
    assert [q.number for q in view.questions][:1] == [1] and view.questions[0].id == (
        "risks_current"
    )
    took_part = {p.name: p.attended for p in view.attendees}
    assert took_part.get("lee") is False and took_part.get("lou") is False
    async with slack.core.db.read() as s:
        group_member = (await s.exec(select(Member).where(Member.user_id == SAM))).one()
    assert org_id is not None and group_member is not None
    closed_on = session.closed_at.date() if session.closed_at else date.today()
    digest = await build_digest(slack.core, await _org_of(slack, session), closed_on, min_count=1)
    risks = next(r for r in digest.rates if r.headline.startswith("Are the risks"))
    assert risks.members.text == "50% Yes · 50% No · 0% Not sure"
    path = await trajectory(slack.core, session.group_id)
    assert INSERTED not in str(path) and "inserted_first" not in str(path)
    assert path.rows[0].question_id == "risks_current"
    assert path.rows[0].points[-1].text == "Not agreed"


async def _org_of(slack: SlackHarness, session: ReflectionSession) -> int:
    from storage.models import CoreGroup

    async with slack.core.db.read() as s:
        group = await s.get(CoreGroup, session.group_id)
    assert group is not None
    return group.org_id
