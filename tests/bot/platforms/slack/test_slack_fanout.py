"""The record's fan-out on Slack: members don't wait for each other, each conversation is paced.

Closing a session sends a long record (several posts) to the channel and to every member, and
Slack takes about one message a second per channel. Sent one conversation after another, the
20th member waited for everyone before them (88 s in bench.fanout); now conversations go side
by side (``Runtime.carry_out``), each in order and at Slack's pace, counted from Slack's answer.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.platforms.slack.transport import Pacer, SingleToken, SlackTransport
from bot.runtime import Runtime
from bot.settings import Settings
from bot.transport import Deliverer, ReplyContext
from handlers.base.core import Core
from handlers.base.events import Actor, Press
from handlers.base.messages import Direct, Intent, Message, Paragraph, Post, Reply, Upload, plain
from tests.fakes.slack_api import FakeSlack

PACE = 1.0  # Slack's own pace: a window wide enough for a loaded CI machine
MEMBERS = [f"U0M{n:02d}" for n in range(20)]  # a large core group


class ClockedSlack(FakeSlack):
    """The fake Slack Web API, noting when each call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        self.at.append(time.monotonic())
        return response

    def posts_to(self, channel: str) -> list[tuple[float, Any]]:
        return [
            (at, c)
            for at, c in zip(self.at, self.calls, strict=False)
            if c.method == "chat.postMessage" and c.body.get("channel") == channel
        ]


@pytest.fixture
async def clocked() -> AsyncIterator[ClockedSlack]:
    fake = ClockedSlack()
    await fake.start()
    yield fake
    await fake.stop()


async def carry_out(core: Core, transport: SlackTransport, intents: list[Intent]) -> None:
    """What the adapter does with a handled event's intents (``Runtime.carry_out``)."""
    runtime = Runtime(Settings(_env_file=None), core, {"slack": transport})
    event = Press(Actor("slack", "T0001", "U0RO"), "session.close")
    try:
        await runtime.carry_out(event, intents, ReplyContext("T0001", "U0RO", "C0GROUP"))
    finally:
        await transport.close()


def record() -> Message:
    """A record long enough for three posts, as a large group's record is."""
    return Message("record", tuple(Paragraph((f"answer line {i}",)) for i in range(120)))


async def test_members_get_the_record_side_by_side_each_paced_and_in_order(
    core: Core, clocked: ClockedSlack
) -> None:
    transport = SlackTransport(
        core.db, SingleToken("xoxb-test"), base_url=clocked.api_url, pace_seconds=PACE
    )
    intents = [
        Post("C0GROUP", record()),
        *[Direct(user, record()) for user in MEMBERS],
        Reply(plain("Closed. The record is in the thread and a copy has gone to each member.")),
    ]
    await carry_out(core, transport, intents)

    assert all(c.ok for c in clocked.calls)
    dms = {user: clocked.posts_to("D" + user) for user in MEMBERS}
    assert all(len(posts) == 3 for posts in dms.values())
    # Side by side: every member had the start of the record before anyone had all of it.
    first_done = min(posts[-1][0] for posts in dms.values())
    assert all(posts[0][0] < first_done for posts in dms.values())
    for posts in [*dms.values(), clocked.posts_to("C0GROUP")]:
        (_t0, head), *rest = posts
        ts = head.response.get("ts")
        assert all(c.body["thread_ts"] == ts for _, c in rest)  # the rest follows in the thread
        gaps = [b - a for (a, _), (b, _) in itertools.pairwise(posts)]
        assert all(gap >= PACE * 0.95 for gap in gaps)  # Slack's pace kept within each
    # "A copy has gone to each member" is said after every copy went.
    assert clocked.calls[-1].method == "chat.postEphemeral"
    assert clocked.at[-1] >= max(posts[-1][0] for posts in dms.values())


async def test_the_file_follows_its_record_in_the_thread(core: Core, clocked: ClockedSlack) -> None:
    transport = SlackTransport(core.db, SingleToken("xoxb-test"), base_url=clocked.api_url)
    await Deliverer(core.db, transport).remember("progress:7", {"channel": "C0GROUP", "ts": "1.1"})
    intents = [
        Post("C0GROUP", plain("the record"), thread_key="progress:7"),
        Upload("C0GROUP", "record.docx", b"PK-docx", "Record", thread_key="progress:7"),
        *[Direct(user, plain("the record")) for user in MEMBERS],
    ]
    await carry_out(core, transport, intents)
    assert all(c.ok for c in clocked.calls)
    order = [c.method for c in clocked.calls if c.body.get("channel") in ("C0GROUP", None)]
    posted = order.index("chat.postMessage")
    assert order.index("files.completeUploadExternal") > posted
    [share] = clocked.of("files.completeUploadExternal")
    assert share.body.get("thread_ts") == "1.1"


async def test_a_slow_answer_does_not_bring_the_next_message_closer() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(1.0, clock=lambda: now[0], sleep=sleep)
    await pacer.wait("D1")
    now[0] += 0.8  # Slack took 0.8 s to answer
    pacer.sent("D1")
    await pacer.wait("D1")
    assert slept == [pytest.approx(1.0)]  # a full second after the answer, not 0.2 s
