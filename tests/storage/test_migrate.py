"""`coregroup db upgrade` builds exactly the schema the code expects, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel
from typer.testing import CliRunner

import storage.db  # noqa: F401  (every table module)
from bot.cli import app
from storage.db import to_sync_url
from tests.factories.databases import throwaway_postgres


def _diff(url: str) -> list[object]:
    engine = create_engine(to_sync_url(url))
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))
    finally:
        engine.dispose()


def _upgrade(url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_sqlite_upgrade_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _upgrade(url)
    assert _diff(url) == []
    _upgrade(url)  # running it again (every release) changes nothing
    assert CliRunner().invoke(app, ["db", "current", "--url", url]).output.strip() != ""


def test_postgres_upgrade_matches_the_models(pg_url):
    with throwaway_postgres("cg_mig") as url:
        _upgrade(url)
        assert _diff(url) == []


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_pasted_postgres_urls_use_psycopg(given):
    assert to_sync_url(given) == "postgresql+psycopg://u@h/db"
