"""Every ``coregroup`` command starts the same way (``bot.bootstrap``): with the key configured,
what one command sealed another reads; without it, or with a broken one, each refuses kindly."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from handlers.base.core import Core
from storage import crypto
from tests.conftest import repo_root

runner = CliRunner()
ORG = "console:console"  # the demo's organisation
SAID = "A new partner has been seen at the house."  # Hana's comment in the demo session


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    crypto.configure(None)  # the commands run in this process and set the key process-wide


async def cli(core: Core, *args: str, key: str | None = None) -> Result:
    """The CLI as an operator runs it, against the test database (its own event loop)."""
    env = {"DATABASE_URL": core.db.url, "COREGROUP_ENCRYPTION_KEY": key or ""}
    get_settings.cache_clear()
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def session_id(core: Core) -> int:
    """The demo's own supervision: the latest (the earlier one it seeds has no comments)."""
    async with core.db.read() as s:
        conn = await s.connection()
        latest = text("SELECT max(id) FROM reflection_session")
        return int((await conn.execute(latest)).scalar_one())


async def raw_comments(core: Core) -> list[str]:
    async with core.db.read() as s:
        conn = await s.connection()
        rows = await conn.execute(text("SELECT comment FROM answer WHERE comment IS NOT NULL"))
        return [r[0] for r in rows]


async def test_what_the_demo_sealed_export_privacy_and_digest_read_with_the_key(core: Core):
    key = crypto.new_key()
    demo = await cli(core, "demo", "--database", core.db.url, key=key)
    assert demo.exit_code == 0, demo.output
    assert SAID in demo.stdout
    stored = await raw_comments(core)
    assert stored and all(c.startswith("fernet:") for c in stored)
    assert not any(SAID in c for c in stored)

    sid = await session_id(core)
    record = await cli(core, "export", "--session", str(sid), "--format", "md", key=key)
    assert record.exit_code == 0, record.output
    assert SAID in record.stdout
    person = await cli(core, "privacy", "export", "--user", "hv", "--org", ORG, key=key)
    assert person.exit_code == 0, person.output
    assert any(a["comment"] == SAID for a in json.loads(person.stdout)["answers"])
    for args in (["digest"], ["audit", "--verify"], ["remind", "--dry-run"]):
        result = await cli(core, *args, key=key)
        assert result.exit_code == 0, (args, result.output)


async def test_without_the_key_sealed_text_is_refused_kindly_not_shown(core: Core):
    key = crypto.new_key()
    assert (await cli(core, "demo", "--database", core.db.url, key=key)).exit_code == 0
    sid = await session_id(core)
    for args in (
        ["export", "--session", str(sid), "--format", "md"],
        ["privacy", "export", "--user", "hv", "--org", ORG],
    ):
        for wrong in (None, crypto.new_key()):
            result = await cli(core, *args, key=wrong)
            assert result.exit_code == 1, (args, result.output)
            assert "could not be decrypted" in result.output
            assert "fernet:" not in result.output and SAID not in result.output


async def test_a_malformed_key_stops_every_command_with_a_clear_message(
    core: Core, tmp_path: Path
) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text("child_ref,registration_date,channel_id,facilitator_id\n")
    for args in (
        ["export", "--session", "1"],
        ["privacy", "export", "--user", "hv"],
        ["digest"],
        ["audit"],
        ["groups", "import", str(groups)],
    ):
        result = await cli(core, *args, key="not-a-key")
        assert result.exit_code == 1, (args, result.output)
        assert "COREGROUP_ENCRYPTION_KEY is not a valid key" in result.output, args
        assert "not-a-key" not in result.output


def test_only_bootstrap_builds_a_core_opens_the_database_or_sets_the_key() -> None:
    """One way to build the runtime: a second one (that forgets the key) cannot creep in."""
    others = re.compile(r"\bCore\(|\bDatabase\(|crypto\.configure\(")
    bot = repo_root() / "bot"
    found = [
        f"{path.relative_to(repo_root())}:{n}"
        for path in sorted(bot.rglob("*.py"))
        if path != bot / "bootstrap.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if others.search(line)
    ]
    assert found == []
