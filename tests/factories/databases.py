"""Throwaway PostgreSQL databases, created on the local server and dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

# The admin connection the tests create their databases with.
PG_ADMIN = os.environ.get("COREGROUP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


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
