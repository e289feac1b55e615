"""``coregroup serve`` as deployed: its own process, a real port, a signed Slack request, SIGTERM.

The other server tests mount ``build_web_app`` in the test process; this one runs the command an
operator runs, so start-up (settings from the environment, logging, the scheduler, freezing the
start-up heap) and shutdown are covered too.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from storage.db import Database
from tests.bot.serve_harness import serve_env, serving_line
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, encode, signed, slash_command


class Served:
    """A running ``coregroup serve``: its ``serving`` log line, and its exit code once stopped."""

    def __init__(self, proc: asyncio.subprocess.Process, line: dict[str, object]) -> None:
        self.proc = proc
        self.line = line
        self.port = int(str(line["port"]))
        self.exit_code: int | None = None

    async def stop(self) -> None:
        """SIGTERM, as a process manager sends it; the server should exit 0 by itself."""
        self.proc.send_signal(signal.SIGTERM)
        self.exit_code = await asyncio.wait_for(self.proc.wait(), timeout=30)


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path, fake: FakeSlack) -> AsyncIterator[Served]:
    """Start ``coregroup serve --port 0`` and wait until it listens; always clean up after."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve", "--port", "0"),
        cwd=cwd,  # no stray .env from the checkout
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Served(proc, await serving_line(proc))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()


async def _until(check: Any) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)


async def test_serve_answers_slack_and_stops_cleanly_on_sigterm(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    async with serving(serve_env(db, fake), tmp_path, fake) as server:
        body, content_type = encode(slash_command("help", user="U0RO", channel="C0GROUP"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/healthz") as health:
                assert health.status == 200
            async with http.post(
                f"http://127.0.0.1:{server.port}/slack/events",
                data=body.encode(),
                headers=signed(SIGNING_SECRET, body, content_type=content_type),
            ) as resp:
                assert resp.status == 200
        await _until(lambda: fake.delivered("chat.postEphemeral"))  # the reply follows the ack
        await server.stop()

    [reply] = fake.delivered("chat.postEphemeral")
    assert reply.body["user"] == "U0RO"
    assert "/reflect" in " ".join(fake.texts("chat.postEphemeral"))
    assert server.exit_code == 0
    # Start-up objects are out of the collector's reach (see bot.server.freeze_startup_heap).
    assert int(str(server.line["frozen_objects"])) > 10_000


async def test_socket_mode_takes_commands_over_the_websocket_without_a_public_url(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    async with serving(serve_env(db, fake, SLACK_APP_TOKEN="xapp-test"), tmp_path, fake) as server:
        envelope = await fake.push(
            "slash_commands", slash_command("help", user="U0RO", channel="C0GROUP")
        )
        await _until(lambda: fake.delivered("chat.postEphemeral"))
        await server.stop()

    # The connection was opened with the app-level token, and the envelope acknowledged.
    (opened,) = fake.of("apps.connections.open")
    assert opened.headers.get("Authorization") == "Bearer xapp-test"
    assert envelope in [ack.get("envelope_id") for ack in fake.socket_acks]
    [reply] = fake.delivered("chat.postEphemeral")
    assert reply.body["user"] == "U0RO" and reply.body["channel"] == "C0GROUP"
    assert "/reflect" in " ".join(fake.texts("chat.postEphemeral"))
    assert server.exit_code == 0


async def test_while_socket_mode_cannot_connect_http_still_serves_and_sigterm_stops_it(
    db: Database, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    fake.error("apps.connections.open", "internal_error", times=1000)  # Slack unreachable
    async with serving(serve_env(db, fake, SLACK_APP_TOKEN="xapp-test"), tmp_path, fake) as server:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.port}/healthz") as health,
        ):
            assert health.status == 200
        await _until(lambda: fake.of("apps.connections.open"))
        await server.stop()

    assert fake.of("apps.connections.open")  # it did try
    assert server.exit_code == 0
