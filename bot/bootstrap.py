"""Build a process's runtime from settings: database, question sets, handler core."""

from __future__ import annotations

from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from prompts.loader import load_catalogue
from storage import crypto
from storage.db import Database


def build_runtime(settings: Settings, *, database_url: str | None = None) -> Runtime:
    """Everything but the platform transports, which the caller adds."""
    crypto.configure(settings.coregroup_encryption_key)
    db = Database(database_url or settings.database_url)
    core = Core(
        db=db,
        sets=load_catalogue(settings.coregroup_sets_dir),
        max_answer_chars=settings.coregroup_max_answer_chars,
        default_timezone=settings.coregroup_timezone,
        default_nation=settings.coregroup_holidays,
        digest_min_count=settings.coregroup_digest_min_count,
        protective_marking=settings.coregroup_protective_marking,
        answer_retention_days=settings.coregroup_answer_retention_days,
        record_retention_days=settings.coregroup_record_retention_days,
        audit_retention_days=settings.coregroup_audit_retention_days,
    )
    return Runtime(settings=settings, core=core)
