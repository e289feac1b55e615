"""``coregroup groups import`` as an admin runs it: a CSV of core groups, dry run first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database

runner = CliRunner()

HEADER = (
    "child_ref,registration_date,pre_birth,rcppm_date,channel_id,"
    "facilitator_id,facilitator_name,chair_id,members\n"
)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def create() -> None:
        db = Database(url)
        await db.create_all()
        await db.dispose()

    asyncio.run(create())
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def group_count(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            async with db.read() as s:
                conn = await s.connection()
                return int((await conn.exec_driver_sql("SELECT count(*) FROM core_group")).scalar())
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_groups_import_dry_run_then_for_real(database: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "groups.csv"
    csv_file.write_text(HEADER + "AB-1234,2026-01-05,no,,C1,URO,Rita,,USW|Sam|Social care\n")

    dry = runner.invoke(app, ["groups", "import", str(csv_file), "--org", "slack:T1", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would create 1 core group(s)" in dry.output
    assert group_count(database) == 0

    real = runner.invoke(app, ["groups", "import", str(csv_file), "--org", "slack:T1"])
    assert real.exit_code == 0, real.output
    assert "Created 1 core group(s)" in real.output
    assert group_count(database) == 1

    again = runner.invoke(app, ["groups", "import", str(csv_file), "--org", "slack:T1"])
    assert again.exit_code == 0
    assert "row 2: channel C1 is already registered for this child; skipped" in again.output
    assert group_count(database) == 1


def test_groups_import_with_errors_exits_1_and_imports_nothing(
    database: str, tmp_path: Path
) -> None:
    csv_file = tmp_path / "groups.csv"
    csv_file.write_text(
        HEADER + "AB-1234,2026-01-05,no,,C1,URO,Rita,,\nCD-1,not a date,no,,C2,URO,Rita,,\n"
    )
    result = runner.invoke(app, ["groups", "import", str(csv_file)])
    assert result.exit_code == 1
    assert "row 3, registration_date: not a date" in result.output
    assert "Nothing imported" in result.output
    assert group_count(database) == 0


def test_groups_import_refuses_a_binary_file_and_a_bad_org(database: str, tmp_path: Path) -> None:
    blob = tmp_path / "photo.csv"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x81\x8d\x8f")
    result = runner.invoke(app, ["groups", "import", str(blob)])
    assert result.exit_code != 0
    assert "not a" in result.output and "CSV" in result.output

    result = runner.invoke(app, ["groups", "import", str(blob), "--org", "slack"])
    assert result.exit_code == 2
    assert "PLATFORM:EXTERNAL_ID" in result.output
