"""Shared fixtures: a real database on both backends, the question sets, a handler core.

PostgreSQL tests use a throwaway database per test process on the local server
(``COREGROUP_TEST_PG``, default ``postgresql://postgres@127.0.0.1:5432/postgres`` as the admin
connection). When PostgreSQL cannot be reached the tests are skipped locally, but with
``CI=true`` (or ``COREGROUP_REQUIRE_POSTGRES=1``) the run fails: CI must prove both backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bot.bootstrap import build_core
from bot.settings import Settings
from handlers.base.core import Core
from prompts.loader import Catalogue, load_catalogue
from storage.db import Database
from tests.factories.databases import skip_without_postgres, throwaway_postgres

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test process, dropped at the end."""
    skip_without_postgres()
    with throwaway_postgres("cg_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'coregroup.db'}"


_schemas: dict[str, Database] = {}


async def _fresh(url: str) -> Database:
    """A database with an empty schema: created once per process, emptied per test."""
    db = _schemas.get(url)
    if db is None:
        db = Database(url)
        await db.create_all()
        _schemas[url] = db
    async with db.write() as s:
        conn = await s.connection()
        for table in reversed(SQLModel.metadata.sorted_tables):
            await conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
    return db


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A real, empty database: once on SQLite, once on PostgreSQL."""
    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    yield await _fresh(url)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # a Monday morning


@pytest.fixture
def core(db: Database, catalogue: Catalogue, clock: Clock) -> Core:
    """The handler core as every command builds it (default settings), on the test database."""
    return build_core(Settings(_env_file=None), db, sets=catalogue, clock=clock)  # type: ignore[call-arg]


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    loop = asyncio.new_event_loop()
    try:
        for db in _schemas.values():
            loop.run_until_complete(db.dispose())
    except Exception:  # noqa: S110  (engines bound to the test loop may already be gone)
        pass
    finally:
        loop.close()


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
