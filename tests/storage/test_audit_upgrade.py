"""A log written before the chain was keyed (migration 0003) stays verifiable after the upgrade,
and once sealed by a keyed event its old rows can no longer be rewritten. Both backends."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, text
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from storage import audit_key
from storage.db import to_sync_url
from storage.migrate import upgrade
from storage.types import UTCDateTime
from tests.factories import databases

empty_url = databases.empty_url  # the fixture, on both backends
KEY = "an-audit-key-for-the-upgrade-test-0123456789"
# audit_event as revision 0002 had it.
OLD = Table(
    "audit_event",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(timezone=True)),
    Column("org_id", Integer),
    Column("actor", String(64)),
    Column("action", String(40)),
    Column("subject", String(80)),
    Column("detail", JSON),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
)


@pytest.fixture(autouse=True)
def _settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    audit_key.configure(None)


def _old_hash(prev: str, row: dict) -> str:
    body = [prev, row["at"].isoformat(), row["org_id"], row["actor"], row["action"]]
    body += [row["subject"], row["detail"]]
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _write_old_log(url: str) -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    engine = create_engine(to_sync_url(url))
    prev = ""
    try:
        with engine.begin() as conn:
            for i, action in enumerate(("group.created", "session.opened", "session.closed")):
                row = {
                    "at": start + timedelta(hours=i),
                    "org_id": 1,
                    "actor": "ro",
                    "action": action,
                    "subject": f"session:{i}",
                    "detail": {"n": i},
                }
                new = _old_hash(prev, row)
                conn.execute(OLD.insert().values(**row, prev_hash=prev, hash=new))
                prev = new
    finally:
        engine.dispose()


async def _cli(url: str, *args: str):
    env = {"DATABASE_URL": url, "COREGROUP_AUDIT_KEY": KEY}
    get_settings.cache_clear()
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_an_old_log_is_sealed_by_the_key_and_then_cannot_be_rewritten(empty_url: str):
    upgrade(empty_url, "0002")
    _write_old_log(empty_url)
    upgrade(empty_url, "head")

    # Upgraded, nothing keyed yet: verification says so, and doctor says what to do.
    unsealed = await _cli(empty_url, "audit", "--verify")
    assert unsealed.exit_code == 1 and "no event is keyed" in unsealed.stderr
    doctor = await _cli(empty_url, "doctor")
    assert "the newest audit event is not keyed" in doctor.output
    assert "run `coregroup audit --anchor` once" in doctor.output

    anchored = await _cli(empty_url, "audit", "--anchor")
    assert anchored.exit_code == 0, anchored.output
    assert json.loads(anchored.stdout)["count"] == 4  # three old events and the keyed seal
    verified = await _cli(empty_url, "audit", "--verify")
    assert verified.exit_code == 0, verified.output
    assert "4 event(s) intact" in verified.stderr

    # An old row edited and every plain hash recomputed, the seal relinked: the seal's HMAC
    # covers the link, and cannot be recomputed without the key.
    _rewrite_old_rows(empty_url)
    edited = await _cli(empty_url, "audit", "--verify")
    assert edited.exit_code == 1
    assert "does not match its content" in edited.stderr


def _rewrite_old_rows(url: str) -> None:
    engine = create_engine(to_sync_url(url))
    try:
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, hash_alg FROM audit_event ORDER BY id")).all()
            old = [dict(r._mapping) for r in conn.execute(OLD.select().order_by(OLD.c.id))]
            prev = ""
            for row, (row_id, alg) in zip(old, rows, strict=True):
                if alg != audit_key.LEGACY_ALG:  # the seal: only its link can be changed
                    conn.execute(OLD.update().where(OLD.c.id == row_id).values(prev_hash=prev))
                    break
                if row["subject"] == "session:0":
                    row["actor"] = "someone-else"
                new = _old_hash(prev, row)
                conn.execute(
                    OLD.update()
                    .where(OLD.c.id == row_id)
                    .values(actor=row["actor"], prev_hash=prev, hash=new)
                )
                prev = new
    finally:
        engine.dispose()
