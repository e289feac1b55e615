"""``coregroup doctor``: every configuration check, as ok / problem / how to fix.

Exit 1 if anything is wrong, 0 otherwise. Outside production the same problems are reported,
each marked when it would stop ``coregroup serve`` in production. Secrets are never printed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy import make_url

from bot.bootstrap import open_runtime
from bot.checks import Check, configuration_checks
from bot.settings import Settings, get_settings, settings_problems
from handlers.base import audit
from storage import audit_key
from storage.models import AuditEvent

BLOCKS = "  [blocks production]"


def environment(settings: Settings) -> Check:
    if settings.production:
        return Check("COREGROUP_ENV", True, "production: unsafe settings stop the server")
    return Check(
        "COREGROUP_ENV",
        True,
        f"{settings.coregroup_env}: problems marked 'blocks production' would stop "
        "`coregroup serve` with COREGROUP_ENV=production",
    )


def schema(settings: Settings) -> Check:
    """Whether the database answers and is migrated to this release's schema."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, current

    name = "database"
    fix = "check DATABASE_URL, the network, and that the database server is running"
    if _missing_sqlite_file(settings.database_url):  # don't create an empty file by looking
        return Check(
            name, False, "the SQLite file does not exist yet", "run `coregroup db upgrade`", False
        )
    try:
        at = current(settings.database_url)
    except Exception as exc:  # any driver error: say which kind, never the URL
        return Check(name, False, f"cannot connect ({type(exc).__name__})", fix, False)
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if at != head:
        return Check(
            name,
            False,
            f"the schema is at {at or 'nothing'}, this release needs {head}",
            "run `coregroup db upgrade`",
            False,
        )
    return Check(name, True, f"reachable, schema up to date ({head})")


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    path = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and path not in ("", ":memory:")
        and (not Path(path).exists())
    )


async def _audit_head(settings: Settings) -> AuditEvent | None:
    from bot.audit_anchor import head_of

    async with open_runtime(settings) as runtime:
        return await head_of(runtime.core.db)


def audit_head(settings: Settings) -> Check:
    """Whether the newest audit event verifies with the configured key (a wrong key shows here)."""
    name = "audit log"
    try:
        head = asyncio.run(_audit_head(settings))
    except Exception as exc:
        return Check(name, False, f"cannot read the audit log ({type(exc).__name__})", "", False)
    if head is None:
        return Check(name, True, "the audit log is empty")
    if head.hash_alg == audit_key.LEGACY_ALG:
        return Check(
            name,
            False,
            "the newest audit event is not keyed (written before this release)",
            "run `coregroup audit --anchor` once: it seals the older events with the key",
            False,
        )
    broken = audit.find_break([head], head.prev_hash)
    if broken is not None:
        return Check(
            name,
            False,
            f"the newest audit event does not verify: {broken.reason}",
            "set the key the log was written with (add the old one after a comma when "
            "rotating), then run `coregroup audit --verify`",
            False,
        )
    return Check(name, True, "the newest audit event verifies with the configured key")


def show(check: Check) -> None:
    if check.ok:
        typer.echo(f"ok       {check.setting}: {check.message}")
        return
    typer.echo(
        f"problem  {check.setting}: {check.message}{BLOCKS if check.blocks_production else ''}"
    )
    if check.fix:
        typer.echo(f"         how to fix: {check.fix}")


def all_checks(settings: Settings) -> list[Check]:
    checks = [environment(settings), *configuration_checks(settings), schema(settings)]
    if checks[-1].ok:  # the audit log can only be read from a reachable, migrated database
        checks.append(audit_head(settings))
    return checks


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor() -> None:
        """Check the configuration: every check as ok / problem / how to fix (exit 1 if any)."""
        try:
            settings = get_settings()
        except ValidationError as exc:
            for line in settings_problems(exc):
                show(Check("settings", False, line, "correct it in the environment (or .env)"))
            typer.echo("Fix the settings above first; nothing else was checked.")
            raise typer.Exit(code=1) from None
        checks = all_checks(settings)
        for check in checks:
            show(check)
        problems = [c for c in checks if not c.ok]
        blocking = [c for c in problems if c.blocks_production]
        if not problems:
            typer.echo(f"All {len(checks)} checks are ok.")
            return
        typer.echo(f"{len(problems)} problem(s), {len(blocking)} of them would stop production.")
        raise typer.Exit(code=1)
