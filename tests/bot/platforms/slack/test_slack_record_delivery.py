"""The closed record in Slack, over real HTTP: one summary message and the Word file, in the
session's thread and in every member's DM, even for the largest record (20 members, every
question answered at 3,000 characters). Nothing is cut mid-sentence without saying so."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from storage.models import ReflectionSession, SessionStatus
from tests.bot.platforms.largest_record import (
    MEMBERS,
    answer_everything,
    close_values,
    setup_text,
)
from tests.fakes.slack_api import SlackHarness, slash_command, view_submission

RO = "U0RO0001"
CHANNEL = "C0GROUP01"
PEOPLE = [f"U0M{i:05d}" for i in range(MEMBERS)]
CONTINUED = "(continued in the file)"


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", []) + b.get("elements", []) if "text" in f]
    return out


async def _close_largest_record(slack: SlackHarness) -> tuple[str, Any, float]:
    """Set up 20 members, open, answer everything, close; (thread ts, fake, seconds to close)."""
    import time

    fake = slack.fake
    fake.allowed_mentions = {RO, *PEOPLE}
    setup = setup_text(f"<@{RO}|ro>", lambda i: f"<@{PEOPLE[i]}|member{i}>")
    assert (await slack.send(slash_command(setup, user=RO, channel=CHANNEL))).status == 200
    assert (await slack.send(slash_command("", user=RO, channel=CHANNEL))).status == 200
    session_id = await answer_everything(slack.core)
    [progress] = [c for c in fake.delivered("chat.postMessage") if c.body["channel"] == CHANNEL][
        -1:
    ]
    progress_ts = progress.response["ts"]
    assert (await slack.send(slash_command("close", user=RO, channel=CHANNEL))).status == 200
    form = fake.views[-1]
    async with slack.core.db.read() as s:
        session = await s.get(ReflectionSession, session_id)
        assert session is not None
        set_id = session.set_id
    fake.calls.clear()
    values = close_values(slack.core, set_id, PEOPLE[0])
    started = time.monotonic()
    assert (await slack.send(view_submission(form, values, user=RO))).status == 200
    return progress_ts, fake, time.monotonic() - started


async def test_the_largest_record_is_one_summary_and_one_file_per_destination(
    slack: SlackHarness,
) -> None:
    progress_ts, fake, _took = await _close_largest_record(slack)
    async with slack.core.db.read() as s:
        [session] = (await s.exec(select(ReflectionSession))).all()
    assert session.status == SessionStatus.CLOSED

    posts = fake.delivered("chat.postMessage")
    files = fake.delivered("files.completeUploadExternal")
    in_thread = [c for c in posts if c.body.get("thread_ts") == progress_ts]
    thread_files = [f for f in files if f.body.get("thread_ts") == progress_ts]
    assert len(in_thread) == 1 and len(thread_files) == 1
    for member in PEOPLE:
        dm = "D" + member
        messages = [c for c in posts if c.response.get("channel") == dm]
        dm_files = [f for f in files if f.body.get("channel_id") == dm]
        assert len(dm_files) == 1, f"{member} gets the Word record in their DM"
        # the summary, the file, and the escalation note the group flagged: never more
        assert len(messages) + len(dm_files) <= 3
        assert any("Record of core group supervision" in c.body["text"] for c in messages)
    uploads = [c for c in fake.calls if c.method == "upload"]
    assert len(uploads) == MEMBERS + 1 and all(u.body["size"] > 10_000 for u in uploads)

    summary = in_thread[0].body
    text = "\n".join(_texts(summary["blocks"]))
    assert len(summary["blocks"]) <= 50
    assert "AB-1234" in text and "Key points" in text and "Actions" in text
    assert "Word file" in text
    for n in range(1, 15):  # every question is there with its tally and agreed position
        assert re.search(rf"\*{n}\. ", text), f"question {n} is in the summary"
    assert text.count("Agreed:") >= 10
    # Long notes end at a sentence, then say where the rest is; nothing ends mid-word silently.
    for line in text.split("\n"):
        if "sentence" in line:
            assert CONTINUED in line or line.rstrip().endswith("."), line[-80:]
    assert CONTINUED in text
    assert fake.violations == []
    assert [c.method for c in fake.calls if not c.ok] == []


async def test_each_destination_is_paced_on_its_own_and_all_are_served_together(
    slack: SlackHarness,
) -> None:
    """Twenty DMs do not queue behind each other: with Slack's one-message-a-second pace per
    conversation, the fan-out takes seconds, not the minutes a single queue would."""
    from bot.platforms.slack.transport import Pacer

    transport = slack.runtime.transports["slack"]
    transport.pacer = Pacer(0.5)  # type: ignore[attr-defined]
    _ts, fake, took = await _close_largest_record(slack)
    # One queue would wait 0.5 s before each destination's 2nd and 3rd message: 21 s in all.
    assert took < 12.0
    sent = [c for c in fake.calls if c.method in ("chat.postMessage", "files.getUploadURLExternal")]
    assert len(sent) >= 2 * (MEMBERS + 1)
