"""The one way a process builds its runtime from settings: key, question sets, database, core.

Every ``coregroup`` command that touches the database, and the server, starts here, so stored
text is always sealed and unsealed with the configured key, a broken question set stops every
command the same way, and the same limits, time zone and retention apply whichever command runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from bot.platforms import registry
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from handlers.base.errors import CoreGroupError
from prompts.loader import Catalogue, load_catalogue
from storage import audit_key, crypto
from storage.db import Database


class InvalidKey(CoreGroupError):
    """``COREGROUP_ENCRYPTION_KEY`` is not a Fernet key (or a comma-separated list of them)."""


def build_core(
    settings: Settings,
    db: Database,
    *,
    sets: Catalogue | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Core:
    """The handler core over ``db`` with every limit from ``settings`` (tests pass a clock)."""
    core = Core(
        db=db,
        sets=sets if sets is not None else load_catalogue(settings.coregroup_sets_dir),
        max_answer_chars=settings.coregroup_max_answer_chars,
        default_timezone=settings.coregroup_timezone,
        default_nation=settings.coregroup_holidays,
        digest_min_count=settings.coregroup_digest_min_count,
        protective_marking=settings.coregroup_protective_marking,
        answer_retention_days=settings.coregroup_answer_retention_days,
        record_retention_days=settings.coregroup_record_retention_days,
        audit_retention_days=settings.coregroup_audit_retention_days,
    )
    if clock is not None:
        core.clock = clock
    return core


def build_runtime(
    settings: Settings, *, database_url: str | None = None, platforms: bool = False
) -> Runtime:
    """Configure the encryption and audit keys, load the question sets, open the database.

    ``platforms`` also adds the transport of every configured platform (``serve``, ``remind``),
    so the scheduler can send through them. Close the runtime with :meth:`Runtime.close`.
    """
    configure_keys(settings)
    sets = load_catalogue(settings.coregroup_sets_dir)  # a broken question set stops us here
    db = Database(database_url or settings.database_url)
    runtime = Runtime(settings=settings, core=build_core(settings, db, sets=sets))
    if platforms:
        registry.add_transports(runtime)
    return runtime


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, database_url: str | None = None, platforms: bool = False
) -> AsyncIterator[Runtime]:
    """:func:`build_runtime` for one command: transports and database are closed afterwards."""
    runtime = build_runtime(settings, database_url=database_url, platforms=platforms)
    try:
        yield runtime
    finally:
        await runtime.close()


def configure_keys(settings: Settings) -> None:
    """Install the process-wide secrets: the encryption key(s) and the audit key(s)."""
    try:
        crypto.configure(settings.coregroup_encryption_key)
    except ValueError as exc:  # the message names no key material
        raise InvalidKey(
            f"COREGROUP_ENCRYPTION_KEY is not a valid key: {type(exc).__name__}"
        ) from None
    audit_key.configure(settings.coregroup_audit_key, production=settings.production)
