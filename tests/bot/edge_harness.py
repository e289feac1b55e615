"""Both endpoints of the real server for the edge tests, and what they compare.

``slack_server`` and ``teams_server`` share the test's database; the Slack one already has a
core group with an open supervision. :func:`snapshot` reads every row but the delivery-dedupe
bookkeeping, so "nothing changed" can be asserted across a corpus.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import SQLModel

from bot.platforms.slack.signature import sign
from handlers.base.core import Core
from storage.db import Database
from tests.bot.platforms.teams.teams_harness import Harness, Person, running
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, SlackHarness, slash_command

HUGE = "99999999999999999999999"
RO, SAM = "U0RO0001", "U0SAM001"
CHANNEL = "C0GROUP01"
TEAMS_SAM = Person("Sam Social Worker", "aad-sam")
BOOKKEEPING = {"inbound_seen"}  # which deliveries were seen: it must grow, and nothing else

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
WRONG_TYPES = (
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/json; charset=no-such-charset",
    "",
)


@dataclass
class Answer:
    status: int
    text: str


async def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    async with (
        aiohttp.ClientSession(skip_auto_headers=("Content-Type",)) as http,
        http.post(url, data=body, headers=headers) as resp,
    ):
        return Answer(resp.status, await resp.text(errors="replace"))


def slack_headers(body: bytes, content_type: str = JSON, **override: str) -> dict[str, str]:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
    }
    headers.update(override)
    return {k: v for k, v in headers.items() if v}


def interaction(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


async def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table (but the dedupe bookkeeping), comparable across two moments."""
    rows: dict[str, list[str]] = {}
    async with db.read() as s:
        conn = await s.connection()
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in BOOKKEEPING:
                result = await conn.exec_driver_sql(f'SELECT * FROM "{table.name}"')
                rows[table.name] = sorted(repr(tuple(r)) for r in result.all())
    return rows


# ---- the servers, with a core group and an open supervision already there --------------------


@pytest.fixture
async def slack_server(core: Core) -> AsyncIterator[SlackHarness]:
    fake = await FakeSlack().start()
    harness = await SlackHarness(core, fake).start()
    setup = (
        f"setup child=AB-1234 registered=2025-12-01 facilitator=<@{RO}|ro> "
        f"members=<@{SAM}|sam>:Social care"
    )
    for command in (setup, ""):
        assert (await harness.send(slash_command(command, user=RO, channel=CHANNEL))).status == 200
    yield harness
    await harness.stop()
    await fake.stop()


@pytest.fixture
async def teams_server(core: Core) -> AsyncIterator[Harness]:
    async with running(core) as harness:
        status, _ = await harness.post(harness.personal(TEAMS_SAM, "reflect help"))
        assert status == 200
        yield harness
