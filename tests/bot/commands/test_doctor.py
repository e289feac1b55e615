"""`coregroup doctor`: every check as ok / problem / how to fix; exit 1 on any problem, 0 when
all is well; outside production problems are still reported, marked when they block production."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from handlers.base import audit
from storage import audit_key
from storage.db import Database
from storage.migrate import upgrade
from storage.types import utcnow
from tests.factories import databases

empty_url = databases.empty_url  # the fixture, on both backends
ENCRYPTION_KEY = Fernet.generate_key().decode()
AUDIT_KEY = "the-doctor-test-audit-key-0123456789abcdef"
PASSWORD = "teams-client-secret-value"
SIGNING = "slack-signing-secret-value"
SAFE = {
    "COREGROUP_ENV": "production",
    "COREGROUP_ENCRYPTION_KEY": ENCRYPTION_KEY,
    "COREGROUP_AUDIT_KEY": AUDIT_KEY,
    "SLACK_BOT_TOKEN": "xoxb-doctor-token",
    "SLACK_SIGNING_SECRET": SIGNING,
    "SLACK_API_URL": "https://slack.com/api/",
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000002",
    "MICROSOFT_APP_PASSWORD": PASSWORD,
}
CLEARED = (
    "SLACK_",
    "MICROSOFT_",
    "TEAMS_",
    "COREGROUP_",
    "DATABASE_URL",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(os.environ):
        if name.startswith(CLEARED):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    audit_key.configure(None)


async def doctor(**env: str) -> Result:
    get_settings.cache_clear()
    return await asyncio.to_thread(CliRunner().invoke, app, ["doctor"], env=env)


def _lines(result: Result, status: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(status)]


async def test_development_defaults_report_what_would_block_production(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    upgrade(url)
    result = await doctor(DATABASE_URL=url)
    assert result.exit_code == 1
    problems = _lines(result, "problem  ")
    assert [p.split(":")[0] for p in problems] == [
        "problem  COREGROUP_ENCRYPTION_KEY",
        "problem  DATABASE_URL",
        "problem  COREGROUP_AUDIT_KEY",
    ]
    assert all(p.endswith("[blocks production]") for p in problems)
    assert audit_key.DEVELOPMENT_KEY in problems[2]  # says which key is signing meanwhile
    out = result.output
    assert "how to fix: run `coregroup privacy new-key` and set COREGROUP_ENCRYPTION_KEY" in out
    assert "how to fix: use PostgreSQL" in out
    assert "ok       COREGROUP_ENV: development" in out
    assert "ok       database: reachable, schema up to date" in out
    assert out.rstrip().endswith("3 problem(s), 3 of them would stop production.")


async def test_a_safe_production_deployment_is_all_ok_and_prints_no_secret(
    empty_url: str,
) -> None:
    if empty_url.startswith("sqlite"):
        pytest.skip("production means PostgreSQL")
    upgrade(empty_url)
    result = await doctor(DATABASE_URL=empty_url, **SAFE)
    assert result.exit_code == 0, result.output
    assert _lines(result, "problem") == []
    assert "ok       COREGROUP_ENV: production" in result.output
    assert f"signed with key {audit_key.key_id(AUDIT_KEY)}" in result.output
    assert result.output.rstrip().endswith("checks are ok.")
    for secret in (ENCRYPTION_KEY, AUDIT_KEY, PASSWORD, SIGNING, empty_url):
        assert secret not in result.output


async def test_one_unsafe_setting_in_production_is_a_problem_with_its_fix(
    empty_url: str,
) -> None:
    upgrade(empty_url)
    env = {**SAFE, "DATABASE_URL": empty_url, "SLACK_API_URL": "http://slack.test/api/"}
    result = await doctor(**env)
    assert result.exit_code == 1
    problems = _lines(result, "problem  SLACK_API_URL")
    assert problems == [
        "problem  SLACK_API_URL: is not https: tokens and messages would cross the network "
        "unencrypted  [blocks production]"
    ]
    assert "how to fix: use an https:// URL in SLACK_API_URL" in result.output


async def test_a_typo_environment_is_reported_and_nothing_else_is_checked() -> None:
    result = await doctor(COREGROUP_ENV="prod")
    assert result.exit_code == 1
    assert "COREGROUP_ENV must be one of development, test, production, not 'prod'" in (
        result.output
    )
    assert "nothing else was checked" in result.output
    assert "Traceback" not in result.output


async def test_an_unreachable_database_is_a_problem_that_does_not_block_start() -> None:
    development = {k: v for k, v in SAFE.items() if k != "COREGROUP_ENV"}
    result = await doctor(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", **development)
    assert result.exit_code == 1
    [problem] = _lines(result, "problem  database")
    assert "cannot connect" in problem and "blocks production" not in problem
    assert "127.0.0.1:1" not in result.output  # never the URL


async def test_an_audit_key_that_did_not_sign_the_log_is_reported(empty_url: str) -> None:
    upgrade(empty_url)
    audit_key.configure(AUDIT_KEY)
    db = Database(empty_url)
    try:
        async with db.write() as s:
            await audit.record(s, org_id=None, actor="ro", action="group.created", at=utcnow())
    finally:
        await db.dispose()

    other = "a-different-audit-key-0123456789abcdefgh"
    result = await doctor(DATABASE_URL=empty_url, COREGROUP_AUDIT_KEY=other)
    assert result.exit_code == 1
    [problem] = _lines(result, "problem  audit log")
    assert "signed with an audit key that is not configured" in problem
    assert "add the old one after a comma when rotating" in result.output
    rotated = await doctor(DATABASE_URL=empty_url, COREGROUP_AUDIT_KEY=f"{other},{AUDIT_KEY}")
    assert "ok       audit log: the newest audit event verifies" in rotated.output


async def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet.db"
    result = await doctor(DATABASE_URL=f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert "problem  database: the SQLite file does not exist yet" in result.output
    assert "how to fix: run `coregroup db upgrade`" in result.output
    assert not missing.exists()
