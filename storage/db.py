"""The async database: one wrapper for SQLite (one instance) and PostgreSQL (several).

Use ``async with db.write() as s:`` for anything that changes rows and ``db.read()`` otherwise.
On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` and writes from this process are
serialised, so a read never has to be upgraded into a write (the classic "database is locked").
A database that cannot be reached raises :class:`storage.errors.Unavailable`; the
transaction is rolled back, so nothing is half-written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.errors import Unavailable


def to_async_url(url: str) -> str:
    """Map the URLs people paste (postgres://, postgresql://, sqlite://) to async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def to_sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic runs synchronously)."""
    url = to_async_url(url)
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def _sqlite_hooks(engine: AsyncEngine, begin: str) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to choose.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


class Database:
    """Engines and sessions for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = to_async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            self._reader = create_async_engine(self.url, echo=echo)
            self._writer = create_async_engine(self.url, echo=echo)
            _sqlite_hooks(self._reader, "BEGIN")
            _sqlite_hooks(self._writer, "BEGIN IMMEDIATE")
        else:
            self._reader = self._writer = create_async_engine(
                self.url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10
            )

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; nothing it changes is committed."""
        try:
            async with AsyncSession(self._reader, expire_on_commit=False) as session:
                yield session
        except (OperationalError, DBAPIError, OSError) as exc:
            if _is_connectivity(exc):
                raise Unavailable() from exc
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose changes are committed together at the end, or not at all."""
        if self._write_lock is not None:
            async with self._write_lock, self._write_session() as session:
                yield session
        else:
            async with self._write_session() as session:
                yield session

    @asynccontextmanager
    async def _write_session(self) -> AsyncIterator[AsyncSession]:
        try:
            async with (
                AsyncSession(self._writer, expire_on_commit=False) as session,
                session.begin(),
            ):
                yield session
        except (OperationalError, DBAPIError, OSError) as exc:
            if _is_connectivity(exc):
                raise Unavailable() from exc
            raise

    async def create_all(self) -> None:
        """Create tables directly (tests and the demo); deployments use ``db upgrade``."""
        async with self._writer.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def ping(self) -> bool:
        """Whether the database answers (used by /healthz)."""
        try:
            async with self._reader.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self._reader.dispose()
        if self._writer is not self._reader:
            await self._writer.dispose()


def _is_connectivity(exc: BaseException) -> bool:
    """Connection refused, server gone, or the file locked for too long: worth a retry."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    message = str(exc).lower()
    return any(
        hint in message
        for hint in (
            "connection",
            "could not connect",
            "server closed",
            "database is locked",
            "terminating",
            "unable to open",
        )
    )
