"""``coregroup serve`` as deployed: its own process, a real port, a signed Slack request, SIGTERM.

The other server tests mount ``build_web_app`` in the test process; this one runs the command an
operator runs, so start-up (settings from the environment, logging, the scheduler, freezing the
start-up heap) and shutdown are covered too.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from storage.db import Database
from tests.conftest import repo_root
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, encode, signed, slash_command


async def _serving_line(proc: asyncio.subprocess.Process) -> dict[str, object]:
    """The JSON log line that says the server is listening (start-up logs come first)."""
    assert proc.stderr is not None
    while True:
        raw = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        assert raw, "coregroup serve exited before listening"
        line = json.loads(raw)
        if line.get("msg") == "serving":
            return dict(line)


async def test_serve_answers_slack_and_stops_cleanly_on_sigterm(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))},
        "PYTHONPATH": str(repo_root()),
        "DATABASE_URL": db.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve", "--port", "0"),
        cwd=tmp_path,  # no stray .env from the checkout
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        serving = await _serving_line(proc)
        port = int(str(serving["port"]))
        body, content_type = encode(slash_command("help", user="U0RO", channel="C0GROUP"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
            async with http.post(
                f"http://127.0.0.1:{port}/slack/events",
                data=body.encode(),
                headers=signed(SIGNING_SECRET, body, content_type=content_type),
            ) as resp:
                assert resp.status == 200
        for _ in range(200):  # the reply follows the ack
            if fake.delivered("chat.postEphemeral"):
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()

    [reply] = fake.delivered("chat.postEphemeral")
    assert reply.body["user"] == "U0RO"
    assert "/reflect" in " ".join(fake.texts("chat.postEphemeral"))
    assert code == 0
    # Start-up objects are out of the collector's reach (see bot.server.freeze_startup_heap).
    assert int(str(serving["frozen_objects"])) > 10_000
