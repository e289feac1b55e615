"""Throwaway PostgreSQL databases, created on the local server and dropped afterwards.

``empty_url`` is a fixture for tests that run the migrations themselves: a test module takes it
with ``empty_url = databases.empty_url``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

# The admin connection the tests create their databases with.
PG_ADMIN = os.environ.get("COREGROUP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


# CI must prove both backends: there an unreachable PostgreSQL fails the run instead of skipping.
REQUIRE_PG = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("COREGROUP_REQUIRE_POSTGRES") == "1"
)


def postgres_reachable(admin_url: str = PG_ADMIN) -> bool:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def throwaway_postgres(prefix: str, admin_url: str = PG_ADMIN) -> Iterator[str]:
    """The URL of a new, empty database, named after ``prefix`` and this process; dropped
    (even with connections still open) when the block ends."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def skip_without_postgres() -> None:
    """Skip the test when PostgreSQL cannot be reached (fail it under CI)."""
    if not postgres_reachable():
        if REQUIRE_PG:
            pytest.fail("PostgreSQL is required (CI) but cannot be reached at " + PG_ADMIN)
        pytest.skip("PostgreSQL not reachable; set it up to run these tests")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all (dropped afterwards on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    skip_without_postgres()
    with throwaway_postgres("cg_empty") as url:
        yield url
