"""Running ``coregroup serve`` as its own process in the tests: its environment, and the log
line that says it is listening."""

from __future__ import annotations

import asyncio
import json
import os

from storage.db import Database
from tests.conftest import repo_root
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack

_draining: set[asyncio.Future[bytes]] = set()


async def serving_line(proc: asyncio.subprocess.Process) -> dict[str, object]:
    """The JSON log line that says the server is listening (start-up logs come first)."""
    assert proc.stderr is not None
    while True:
        raw = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        assert raw, "coregroup serve exited before listening"
        line = json.loads(raw)
        if line.get("msg") == "serving":
            # Keep reading what follows, so a chatty server never blocks on a full pipe.
            _draining.add(asyncio.ensure_future(proc.stderr.read()))
            return dict(line)


def serve_env(db: Database, fake: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment of a ``coregroup serve`` on the test database, talking to the fake Slack."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))},
        "PYTHONPATH": str(repo_root()),
        "DATABASE_URL": db.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        **extra,
    }
