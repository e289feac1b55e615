"""The keyed audit chain and its anchors, as an operator (and an attacker with database access)
would meet them: `coregroup audit --anchor`, `--verify --anchor HASH:COUNT`, the daily sweep."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.logging import configure_logging
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from bot.sweeper import sweep
from handlers.base import audit
from handlers.base.core import Core
from storage import audit_key
from storage.models import AuditEvent
from tests.bot.commands.cli_runner import session_through_console
from tests.conftest import Clock

KEY = "the-deployment-audit-key-0123456789abcdef"
ATTACKER_KEY = "a-key-the-attacker-made-up-0123456789abcd"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _keyed() -> Iterator[None]:
    get_settings.cache_clear()
    audit_key.configure(KEY)  # what the deployment's processes sign with
    yield
    get_settings.cache_clear()
    audit_key.configure(None)


async def cli(core: Core, *args: str, key: str = KEY) -> Result:
    """The CLI in a thread (it runs its own event loop), on the test database, with a key."""
    get_settings.cache_clear()
    env = {"DATABASE_URL": core.db.url, "COREGROUP_AUDIT_KEY": key}
    result = await asyncio.to_thread(runner.invoke, app, list(args), env=env)
    audit_key.configure(KEY)  # the CLI configured the process-wide key from its environment
    return result


async def _anchor(core: Core) -> str:
    result = await cli(core, "audit", "--anchor")
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert line["event"] == "audit_anchor" and line["at"]
    return f"{line['head']}:{line['count']}"


async def _events(core: Core) -> list[AuditEvent]:
    async with core.db.read() as s:
        return list(await s.exec(select(AuditEvent).order_by(col(AuditEvent.id))))


async def _sql(core: Core, statement: str, **params: object) -> None:
    async with core.db.write() as s:
        conn = await s.connection()
        await conn.execute(text(statement), params)


def _old_public_hash(prev: str, e: AuditEvent) -> str:
    """The unkeyed formula the chain used before it was keyed (anyone can compute it)."""
    body = [prev, e.at.isoformat(), e.org_id, e.actor, e.action, e.subject, dict(e.detail)]
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


async def _rewrite_chain(core: Core, alg: Callable[[AuditEvent], str]) -> None:
    """What an attacker with the database does after an edit: recompute every hash."""
    prev = ""
    for e in await _events(core):
        new = _old_public_hash(prev, e)
        await _sql(
            core,
            "UPDATE audit_event SET prev_hash = :p, hash = :h, hash_alg = :a WHERE id = :id",
            p=prev,
            h=new,
            a=alg(e),
            id=e.id,
        )
        prev = new


async def test_an_untouched_log_matches_its_anchor_also_after_newer_events(core: Core) -> None:
    bot = await session_through_console(core)
    anchor = await _anchor(core)
    head, count = anchor.split(":")
    events = await _events(core)
    assert head == events[-1].hash and int(count) == len(events)

    ok = await cli(core, "audit", "--verify", "--anchor", anchor)
    assert ok.exit_code == 0, ok.output
    assert f"{len(events)} event(s) intact; it matches the anchor (event {count})" in ok.stderr
    await bot.command("ro", "add @newbie Police")  # the log goes on after the anchor
    later = await cli(core, "audit", "--verify", "--anchor", anchor)
    assert later.exit_code == 0, later.output


async def test_deleting_the_newest_events_is_caught_by_the_anchor(core: Core) -> None:
    bot = await session_through_console(core)
    anchor = await _anchor(core)
    newest = [e.id for e in await _events(core)][-3:]
    for event_id in newest:
        await _sql(core, "DELETE FROM audit_event WHERE id = :id", id=event_id)

    # What is left is still a valid chain: only the anchor can tell.
    assert (await cli(core, "audit", "--verify")).exit_code == 0
    caught = await cli(core, "audit", "--verify", "--anchor", anchor)
    assert caught.exit_code == 1
    assert "the newest events have been deleted" in caught.stderr

    # Hiding the gap behind new events does not help: the anchored position holds another.
    await bot.command("ro", "add @newbie Police")
    await bot.command("ro", "add @other Police")
    await bot.command("ro", "add @third Police")
    still = await cli(core, "audit", "--verify", "--anchor", anchor)
    assert still.exit_code == 1
    assert "the log has been rewritten" in still.stderr


async def test_an_edit_rehashed_with_plain_sha256_fails_verification(core: Core) -> None:
    await session_through_console(core)
    anchor = await _anchor(core)
    victim = (await _events(core))[3]
    await _sql(core, "UPDATE audit_event SET actor = 'someone-else' WHERE id = :id", id=victim.id)

    # Recomputed, rows still claiming to be keyed: the first one's HMAC does not match.
    await _rewrite_chain(core, lambda e: e.hash_alg)
    claimed = await cli(core, "audit", "--verify")
    assert claimed.exit_code == 1
    assert "does not match its content" in claimed.stderr

    # Recomputed and relabelled as unkeyed (pre-keying) rows: no keyed event vouches for them.
    await _rewrite_chain(core, lambda e: audit_key.LEGACY_ALG)
    relabelled = await cli(core, "audit", "--verify")
    assert relabelled.exit_code == 1
    assert "no event is keyed" in relabelled.stderr
    assert (await cli(core, "audit", "--verify", "--anchor", anchor)).exit_code == 1


async def test_a_chain_recomputed_with_another_key_fails_verification(core: Core) -> None:
    await session_through_console(core)
    original = await _events(core)
    # The attacker deletes the log and writes it again, edited, with the code and a key of
    # their own, keeping every time and id as it was.
    await _sql(core, "DELETE FROM audit_event")
    audit_key.configure(ATTACKER_KEY)
    async with core.db.write() as s:
        for e in original:
            actor = "someone-else" if e.id == original[3].id else e.actor
            await audit.record(
                s,
                org_id=e.org_id,
                actor=actor,
                action=e.action,
                subject=e.subject,
                at=e.at,
                **e.detail,
            )
    audit_key.configure(KEY)
    forged = await cli(core, "audit", "--verify")
    assert forged.exit_code == 1
    assert "signed with an audit key that is not configured" in forged.stderr

    # Labelling the rows with the real key's id does not help without the real key.
    real = audit_key.HMAC_PREFIX + audit_key.key_id(KEY)
    await _sql(core, "UPDATE audit_event SET hash_alg = :a", a=real)
    relabelled = await cli(core, "audit", "--verify")
    assert relabelled.exit_code == 1
    assert "does not match its content" in relabelled.stderr


async def test_verifying_needs_the_right_key_and_accepts_a_rotated_one(core: Core) -> None:
    await session_through_console(core)
    wrong = await cli(core, "audit", "--verify", key=ATTACKER_KEY)
    assert wrong.exit_code == 1
    assert "signed with an audit key that is not configured" in wrong.stderr

    rotated = f"{ATTACKER_KEY},{KEY}"  # a new key first (signs), the old one still verifies
    assert (await cli(core, "audit", "--verify", key=rotated)).exit_code == 0


async def test_a_malformed_anchor_is_refused_before_reading_the_log(core: Core) -> None:
    result = await cli(core, "audit", "--verify", "--anchor", "not-an-anchor")
    assert result.exit_code == 2
    assert "HASH:COUNT" in result.output


async def test_the_sweep_logs_the_anchor_once_a_day(core: Core, clock: Clock) -> None:
    await session_through_console(core)
    runtime = Runtime(settings=Settings(), core=core)
    stream = io.StringIO()
    handler = configure_logging(logging.INFO, stream)
    try:
        await sweep(runtime, now=clock(), pace_seconds=0)
        clock.advance(hours=3)
        await sweep(runtime, now=clock(), pace_seconds=0)
        first_day = _anchor_lines(stream)
        clock.advance(days=1)
        await sweep(runtime, now=clock(), pace_seconds=0)
        both_days = _anchor_lines(stream)
    finally:
        logging.getLogger().removeHandler(handler)

    assert len(first_day) == 1 and len(both_days) == 2
    line = both_days[-1]
    assert set(line) >= {"event", "head", "count", "at"} and line["level"] == "info"
    events = await _events(core)
    assert (line["head"], line["count"]) == (events[-1].hash, events[-1].seq)
    anchor = f"{line['head']}:{line['count']}"
    assert (await cli(core, "audit", "--verify", "--anchor", anchor)).exit_code == 0


def _anchor_lines(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "audit_anchor"]
