"""Property-based tests (hypothesis): whatever arrives, the bot answers calmly and stays consistent.

- the Slack and Teams parsers raise nothing but their one "malformed" error, whatever the input;
- the dialogue state machine, pressed at random (valid and forged values, by anyone), never
  crashes, never stores an answer for someone else, never stores a choice outside the question's
  choices, and keeps every member's position on a question;
- command text never breaks parsing or routing;
- over real HTTP, garbage bodies get 400 (or 200 for what is shaped like Slack's), never 500.

Each example runs in its own event loop with its own SQLite file, so examples are independent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.platforms.slack import inbound as slack_inbound
from bot.platforms.teams import inbound as teams_inbound
from handlers.base.core import Core
from handlers.base.errors import CoreGroupError
from handlers.base.events import Actor, Command, FormSubmit, Press, TypedText
from handlers.groups.draft import parse_inline
from handlers.reflection import dialogue
from handlers.router import handle
from prompts.loader import Catalogue, load_catalogue
from storage.db import Database
from storage.models import Answer, Member, Participation
from tests.factories.console import SETUP

CATALOGUE: Catalogue = load_catalogue()
QSET = CATALOGUE.get("appendix1")
QUESTION_IDS = [q.id for q in QSET.questions]
CHOICES = sorted({v for q in QSET.questions for v in q.choice_values})

json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
SLACK_KEYS = [
    "type",
    "command",
    "text",
    "team_id",
    "user_id",
    "channel_id",
    "event",
    "actions",
    "user",
    "team",
    "view",
    "channel",
    "container",
    "trigger_id",
    "response_url",
    "event_id",
    "payload",
    "state",
    "values",
    "private_metadata",
    "callback_id",
    "action_id",
    "value",
    "id",
]
SLACK_TYPES = [
    "event_callback",
    "block_actions",
    "view_submission",
    "view_closed",
    "url_verification",
    "message",
    "app_home_opened",
]
slack_like = st.recursive(
    json_leaf | st.sampled_from(SLACK_TYPES),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(SLACK_KEYS), inner, max_size=6)
    ),
    max_leaves=25,
)
TEAMS_KEYS = [
    "type",
    "id",
    "text",
    "from",
    "conversation",
    "recipient",
    "serviceUrl",
    "channelData",
    "tenant",
    "value",
    "entities",
    "membersAdded",
    "conversationType",
    "name",
    "aadObjectId",
]
teams_like = st.recursive(
    json_leaf | st.sampled_from(["message", "invoke", "conversationUpdate", "personal", "channel"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(TEAMS_KEYS), inner, max_size=7)
    ),
    max_leaves=25,
)
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- (a) inbound parsers -------------------------------------------------------------------------


@QUICK
@given(raw=st.text(max_size=300) | json_value.map(json.dumps), form=st.booleans())
def test_slack_body_parsing_only_ever_says_malformed(raw: str, form: bool) -> None:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    try:
        body = slack_inbound.parse_body(raw, content_type)
        slack_inbound.translate(body)
    except slack_inbound.MalformedPayload:
        pass


@QUICK
@given(body=slack_like)
def test_slack_translation_only_ever_says_malformed(body: Any) -> None:
    if not isinstance(body, dict):
        body = {"type": "event_callback", "event": body}
    with contextlib.suppress(slack_inbound.MalformedPayload):
        slack_inbound.translate(body, bot_user_id="UBOT")


@QUICK
@given(payload=teams_like | json_value)
def test_teams_parsing_only_ever_says_malformed(payload: Any) -> None:
    try:
        activity = teams_inbound.parse(payload)
        where = teams_inbound.origin(activity)
        teams_inbound.to_event(activity, where)
    except teams_inbound.MalformedActivity:
        pass


# ---- (c) command text ---------------------------------------------------------------------------


@QUICK
@given(text=st.text(max_size=200))
def test_setup_arguments_parse_or_are_refused_kindly(text: str) -> None:
    try:
        parse_inline(text)
    except CoreGroupError as error:
        assert error.user_message and len(error.user_message) < 400


# ---- (b) the dialogue state machine, pressed at random -------------------------------------------

PEOPLE = ["sw", "hv", "school", "ro", "chair", "stranger"]
PRESS_ACTIONS = [
    "dlg.start", "dlg.later", "dlg.back", "dlg.review", "dlg.submit", "dlg.answer",
    "dlg.skip", "dlg.next", "dlg.change", "dlg.comment", "dlg.text",
]  # fmt: skip
question_id = st.sampled_from(QUESTION_IDS) | st.text(max_size=8)
choice = st.sampled_from(CHOICES) | st.text(max_size=6)


@st.composite
def moves(draw: st.DrawFn) -> tuple[str, ...]:
    """(kind, who, participation slot or forged id, action, question, choice, text)."""
    kind = draw(st.sampled_from(["press", "press", "press", "form", "typed", "command"]))
    who = draw(st.sampled_from(PEOPLE))
    target = draw(st.integers(0, 2).map(str) | st.integers(-5, 10_000).map(lambda n: f"#{n}"))
    return (
        kind,
        who,
        target,
        draw(st.sampled_from(PRESS_ACTIONS)),
        draw(question_id),
        draw(choice),
        draw(st.text(max_size=40)),
    )


async def _scenario(db_url: str, script: list[tuple[str, ...]]) -> None:
    db = Database(db_url)
    try:
        await db.create_all()
        core = Core(db=db, sets=CATALOGUE)
        await handle(core, Command(Actor("console", "o", "ro"), SETUP, "cg"))
        await handle(core, Command(Actor("console", "o", "ro"), "", "cg"))
        async with db.read() as s:
            pids = [p.id for p in await s.exec(select(Participation).order_by(Participation.id))]
        own_presses: set[str] = set()
        for kind, who, target, action, qid, pick, words in script:
            actor = Actor("console", "o", who, who)
            pid = str(pids[int(target)]) if not target.startswith("#") else target[1:]
            if kind == "press":
                value = {
                    "dlg.answer": f"{pid}:{qid}:{pick}",
                    "dlg.skip": f"{pid}:{qid}",
                    "dlg.next": f"{pid}:{qid}",
                    "dlg.change": f"{pid}:{qid}",
                    "dlg.comment": f"{pid}:{qid}",
                    "dlg.text": f"{pid}:{qid}",
                }.get(action, pid)
                event: Any = Press(actor, action, value)
            elif kind == "form":
                event = FormSubmit(actor, dialogue.TEXT_FORM, {"text": words}, f"{pid}:{qid}")
            elif kind == "typed":
                event = TypedText(actor, words)
            else:
                event = Command(actor, words, "cg")
            intents = await handle(core, event)  # anything but a refusal would raise here
            assert isinstance(intents, list)
            own_presses.add(who)
        async with db.read() as s:
            answers = list(await s.exec(select(Answer)))
            members = {m.id: m for m in await s.exec(select(Member))}
            parts = list(await s.exec(select(Participation)))
        by_id = {q.id: q for q in QSET.questions}
        for a in answers:
            # Only the member themselves can have caused their answer.
            assert members[a.member_id].user_id in own_presses
            assert members[a.member_id].user_id in ("sw", "hv", "school")
            if a.choice is not None:
                assert a.choice in by_id[a.question_id].choice_values
        for p in parts:
            assert 0 <= p.position < len(QSET.questions)
    finally:
        await db.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=st.lists(moves(), min_size=1, max_size=25))
def test_random_presses_never_break_the_dialogue(script: list[tuple[str, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_scenario(f"sqlite:///{Path(tmp) / 'p.db'}", script))


# ---- over real HTTP ------------------------------------------------------------------------------


async def _post_garbage(db_url: str, bodies: list[tuple[str, str]]) -> list[tuple[str, int]]:
    import aiohttp
    from aiohttp import web

    from bot.runtime import Runtime
    from bot.server import build_web_app
    from bot.settings import Settings
    from tests.fakes.slack_api import signed

    db = Database(db_url)
    await db.create_all()
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test",
        slack_signing_secret="s3cret",
        slack_api_url="http://127.0.0.1:9/api/",
        teams_allow_unauthenticated=True,
    )
    app = build_web_app(Runtime(settings=config, core=Core(db=db, sets=CATALOGUE)))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    out = []
    try:
        async with aiohttp.ClientSession() as http:
            for body, content_type in bodies:
                slack_headers = signed("s3cret", body, content_type=content_type)
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events",
                    data=body.encode(),
                    headers=slack_headers,
                ) as resp:
                    out.append(("slack", resp.status))
                async with http.post(
                    f"http://127.0.0.1:{port}/api/messages",
                    data=body.encode(),
                    headers={"Content-Type": content_type},
                ) as resp:
                    out.append(("teams", resp.status))
    finally:
        await runner.cleanup()
        await db.dispose()
    return out


garbage_body = st.one_of(
    st.text(max_size=200),
    json_value.map(json.dumps),
    slack_like.map(json.dumps),
    teams_like.map(json.dumps),
    slack_like.map(lambda v: "payload=" + json.dumps(v)),
)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    bodies=st.lists(
        st.tuples(
            garbage_body,
            st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_garbage_over_http_is_never_a_500(bodies: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        statuses = asyncio.run(_post_garbage(f"sqlite:///{Path(tmp) / 'h.db'}", bodies))
    for where, status in statuses:
        assert status < 500, (where, status)


@pytest.mark.parametrize("body", ["", "{", "[]", "null", '{"type": 1}', "\x00\xff", "payload=["])
def test_known_garbage_over_http_is_400(body: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        statuses = asyncio.run(
            _post_garbage(f"sqlite:///{Path(tmp) / 'k.db'}", [(body, "application/json")])
        )
    assert all(status == 400 for _where, status in statuses), statuses
