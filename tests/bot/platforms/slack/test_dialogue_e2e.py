"""A whole core group reflection in Slack, over real HTTP, asserted on what Slack received.

setup -> /reflect -> every member answers in their DM (buttons and forms, with hostile text)
-> a non-member's click changes nothing -> the facilitator closes via the form -> the record is
in the thread of the progress message and every member has a DM copy. Nothing sent could ping,
link or break Slack's limits.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlmodel import select

from storage.models import Answer, CoreGroup, ReflectionSession, SessionStatus
from tests.bot.platforms.slack.slack_screens import (
    SlackScreen,
    answer_everything,
    buttons_of,
    press,
    submit_latest_form,
)
from tests.fakes.slack_api import SlackHarness, block_actions, slash_command, view_submission

RO, SAM, HV, EVE = "U0RO0001", "U0SAM001", "U0HV0001", "U0EVE001"
CHANNEL = "C0GROUP01"
HOSTILE = (
    "<!channel> <!here> @everyone <@U0EVE001> <https://evil.example|click here> "
    "{{ 7*7 }} {% raw %} *bold* `code` > quote & co — مرحبا بالعالم 👋🏽👨‍👩‍👧"
)


async def test_a_whole_reflection_in_slack(slack: SlackHarness) -> None:
    fake = slack.fake
    fake.allowed_mentions = {RO, SAM, HV}
    screen = SlackScreen(slack)

    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care;<@{HV}|hv>:Health visiting"
    )
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    start_command = slash_command("", user=RO, channel=CHANNEL)
    assert (await slack.send(start_command)).status == 200
    assert (await slack.send(start_command, retry=1)).status == 200  # delivered twice: one start

    progress = [
        (ts, blocks)
        for ts, blocks in screen.messages(CHANNEL).items()
        if any(b["action_id"].startswith("session.close") for b in buttons_of(blocks))
    ]
    assert len(progress) == 1, "one progress message in the channel"
    progress_ts, progress_blocks = progress[0]
    for member in (SAM, HV):
        assert screen.latest_touched("D" + member) is not None, "every member is invited by DM"

    # A non-member replaying a member's button changes nothing.
    sam_ts, sam_blocks = screen.latest_touched("D" + SAM)  # type: ignore[misc]
    start = next(b for b in buttons_of(sam_blocks) if b["action_id"].startswith("dlg.start"))
    before = len(fake.calls)
    await press(slack, EVE, "D" + EVE, "1700000999.000001", start)
    refusals = fake.calls[before:]
    assert [(c.method, c.body["channel"]) for c in refusals] == [("chat.postMessage", "D" + EVE)]
    assert "someone else" in refusals[0].body["text"]
    assert screen.latest_touched("D" + SAM) == (sam_ts, sam_blocks)  # Sam's DM is untouched

    await answer_everything(slack, SAM, "yes", HOSTILE + " " + "x" * 2000)
    await answer_everything(slack, HV, "no", HOSTILE)

    async with slack.core.db.read() as s:
        answers = (await s.exec(select(Answer))).all()
    comments = [a.comment for a in answers if a.comment]
    assert len(answers) == 2 * 14  # every Appendix 1 question, for both members
    assert HOSTILE + " " + "x" * 2000 in comments and HOSTILE in comments  # stored exactly as typed

    # The facilitator closes from the progress message's button, through the form.
    close = next(
        b
        for b in buttons_of(screen.messages(CHANNEL)[progress_ts])
        if b["action_id"].startswith("session.close")
    )
    await press(slack, RO, CHANNEL, progress_ts, close)
    form = fake.views[-1]
    assert form["callback_id"] == "session.close"
    picks: dict[str, Any] = {}
    for block in form["blocks"]:
        if block.get("type") != "input":
            continue
        el = block["element"]
        if el["type"] == "static_select":
            picks[el["action_id"]] = el["options"][0]["value"]
    picks.update(
        family_sharing="The social worker will talk it through at the next visit. " + HOSTILE,
        action_1_text="Ask school about attendance " + HOSTILE,
        action_1_owner=SAM,
        action_1_due="2026-03-20",
        takeaways=HOSTILE,
    )
    await submit_latest_form(slack, RO, picks)

    async with slack.core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()
    assert session.status == SessionStatus.CLOSED

    in_thread = [
        c
        for c in fake.delivered("chat.postMessage")
        if c.body.get("channel") == CHANNEL and c.body.get("thread_ts") == progress_ts
    ]
    assert in_thread, "the record is posted in the thread of the progress message"
    record_text = " ".join(
        str(b.get("text", {}).get("text", "")) for c in in_thread for b in c.body["blocks"]
    )
    assert "AB-1234" in record_text
    assert "&lt;!channel&gt;" in record_text  # shown, harmless

    for member in (SAM, HV):
        copies = [
            c
            for c in fake.delivered("chat.postMessage")
            if c.response.get("channel") == "D" + member
            and "AB-1234" in str(c.body)
            and "Record" in str(c.body)
        ]
        assert copies, f"{member} gets a copy of the record"

    uploads = fake.of("files.completeUploadExternal")
    [uploaded] = [u for u in uploads if u.body["channel_id"] == CHANNEL]
    assert uploaded.body["thread_ts"] == progress_ts
    assert {u.body["channel_id"] for u in uploads} == {CHANNEL, "D" + SAM, "D" + HV}

    assert fake.violations == []
    assert [c.method for c in fake.calls if not c.ok] == []
    assert len(progress_blocks) <= 50


async def test_a_ten_thousand_character_dm_is_answered_kindly_and_pings_nobody(
    slack: SlackHarness,
) -> None:
    from tests.fakes.slack_api import event_callback

    slack.fake.allowed_mentions = {SAM}
    text = (HOSTILE + " ") * 80 + "y" * 10_000
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D" + SAM,
        "user": SAM,
        "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "ts": "1700000000.5",
    }
    sent = await slack.send(event_callback(event))
    assert sent.status == 200
    [answer] = slack.fake.delivered("chat.postMessage")
    assert answer.body["channel"] == "D" + SAM
    assert len(answer.body["text"]) < 1000  # a short, kind answer; the text is not echoed
    assert slack.fake.violations == []
    assert [c.method for c in slack.fake.calls if not c.ok] == []


async def test_a_refused_close_form_stays_open_with_the_problem_shown_and_nothing_lost(
    slack: SlackHarness,
) -> None:
    fake = slack.fake
    fake.allowed_mentions = {RO, SAM, HV}
    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care;<@{HV}|hv>:Health visiting"
    )
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    assert (await slack.send(slash_command("", user=RO, channel=CHANNEL))).status == 200
    assert (await slack.send(slash_command("close", user=RO, channel=CHANNEL))).status == 200
    form = fake.views[-1]
    assert form["callback_id"] == "session.close"
    typed = {
        "family_sharing": "The social worker will talk it through at the next visit.",
        "action_1_text": "Ask school about attendance",
        "action_1_owner": SAM,
        "action_1_due": "2020-01-01",  # in the past: refused
        "takeaways": "A long reflection the facilitator does not want to type twice.",
    }
    submission = view_submission(form, typed, user=RO)
    posts_before = len(fake.of("chat.postMessage"))

    refused = await slack.send(submission)

    # Slack keeps the modal open and shows the problem under its first field.
    assert refused.status == 200
    answer = json.loads(refused.text)
    assert answer["response_action"] == "errors"
    [(block, said)] = answer["errors"].items()
    first_input = next(b["block_id"] for b in form["blocks"] if b.get("type") == "input")
    assert block == first_input
    assert said == "Action 1 is due in the past. Please pick a later date."
    assert len(fake.of("chat.postMessage")) == posts_before  # no apology DM, no record
    async with slack.core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()
    assert session.status != SessionStatus.CLOSED

    # The same modal, corrected and submitted again (same view id and hash), is accepted.
    typed["action_1_due"] = "2026-03-20"
    corrected = view_submission(form, typed, user=RO)
    corrected["view"]["id"], corrected["view"]["hash"] = (
        submission["view"]["id"],
        submission["view"]["hash"],
    )
    accepted = await slack.send(corrected)

    assert accepted.status == 200 and "errors" not in accepted.text
    async with slack.core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()
    assert session.status == SessionStatus.CLOSED
    assert fake.of("files.completeUploadExternal"), "the record went to the case file"


async def test_pick_a_date_from_a_nudge_through_the_slack_date_picker(slack: SlackHarness) -> None:
    fake = slack.fake
    fake.allowed_mentions = {RO, SAM}
    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care"
    )
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    async with slack.core.db.read() as s:
        [group] = (await s.exec(select(CoreGroup))).all()

    # The nudge's "Pick a date" button (its value is the group id) opens a one-field modal.
    pressed = block_actions(
        "schedule.plan", str(group.id), user=RO, channel=CHANNEL, message_ts="1700000000.000100"
    )
    assert (await slack.send(pressed)).status == 200
    form = fake.views[-1]
    assert form["callback_id"] == "schedule.plan"
    [picker] = [b["element"] for b in form["blocks"] if b.get("type") == "input"]
    assert picker["type"] == "datepicker"

    assert (await slack.send(view_submission(form, {"on": "2026-03-17"}, user=RO))).status == 200

    said = [
        c.body["text"] for c in fake.delivered("chat.postMessage") if c.body["channel"] == CHANNEL
    ]
    assert "Core group supervision for AB-1234 is planned for Tue 17 Mar." in said[-1]
    async with slack.core.db.read() as s:
        [group] = (await s.exec(select(CoreGroup))).all()
    assert group.planned_on == date(2026, 3, 17)
