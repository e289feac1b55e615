"""Is this configuration safe for real data? The checks behind the production guard and doctor.

With ``COREGROUP_ENV=production``, ``coregroup serve`` and ``coregroup remind`` refuse to start
on the first check that fails, with one line naming the setting. ``coregroup doctor`` prints
every check (and a few more that need the database). Secrets are never printed, only whether
they are set and fit.
"""

from __future__ import annotations

from collections.abc import Callable

import typer
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.checkup import Check
from bot.checkup import ok as _ok
from bot.checkup import problem as _problem
from bot.platforms import registry
from bot.settings import Settings, get_settings, settings_problems
from storage import audit_key


def _keys(value: str | None) -> list[str]:
    return [k.strip() for k in (value or "").split(",") if k.strip()]


def encryption_key(settings: Settings) -> Check:
    name = "COREGROUP_ENCRYPTION_KEY"
    fix = f"run `coregroup privacy new-key` and set {name} to what it prints"
    keys = _keys(settings.coregroup_encryption_key)
    if not keys:
        return _problem(name, "not set: answers and notes would be stored in clear text", fix)
    try:
        for key in keys:
            Fernet(key.encode())
    except ValueError:
        return _problem(name, "is not a valid key (32 url-safe base64-encoded bytes)", fix)
    return _ok(name, f"set ({len(keys)} key(s)): free text is encrypted at rest")


def database(settings: Settings) -> Check:
    # Never print the URL itself: it usually holds the database password.
    if settings.database_url.split(":", 1)[0].lower().startswith("sqlite"):
        return _problem(
            "DATABASE_URL",
            "is SQLite: a file on one machine, for one instance and development only",
            "use PostgreSQL (DATABASE_URL=postgresql://…), with backups",
        )
    return _ok("DATABASE_URL", "PostgreSQL")


def https_urls(settings: Settings) -> list[Check]:
    """Every platform URL setting (``*_url``/``*_urls`` but the database) must be https."""
    checks = []
    for field in sorted(type(settings).model_fields):
        value = getattr(settings, field)
        if field == "database_url" or not field.endswith(("_url", "_urls")):
            continue
        if not isinstance(value, str) or not value:
            continue
        name = field.upper()
        plain = [u for u in value.split(",") if u.strip() and not u.strip().startswith("https://")]
        if plain:
            checks.append(
                _problem(
                    name,
                    "is not https: tokens and messages would cross the network unencrypted",
                    f"use an https:// URL in {name}",
                )
            )
        else:
            checks.append(_ok(name, "https"))
    return checks


def audit_key_check(settings: Settings) -> Check:
    name = "COREGROUP_AUDIT_KEY"
    fix = (
        f"set {name} to a long random secret, e.g. what `coregroup privacy new-key` prints "
        "(a different one from COREGROUP_ENCRYPTION_KEY); keep it out of the database"
    )
    keys = _keys(settings.coregroup_audit_key)
    if not keys:
        return _problem(
            name,
            "not set: the audit log is signed with the published development key "
            f"({audit_key.DEVELOPMENT_KEY}), so anyone could recompute it",
            fix,
        )
    if any(len(k) < audit_key.MIN_KEY_CHARS for k in keys):
        return _problem(name, f"too short (under {audit_key.MIN_KEY_CHARS} characters)", fix)
    if audit_key.DEVELOPMENT_KEY in keys:
        return _problem(name, "is the published development key", fix)
    if set(keys) & set(_keys(settings.coregroup_encryption_key)):
        return _problem(name, "is the same as COREGROUP_ENCRYPTION_KEY", fix)
    return _ok(name, f"set: new audit events are signed with key {audit_key.key_id(keys[0])}")


CONFIG_CHECKS: tuple[Callable[[Settings], Check], ...] = (
    encryption_key,
    database,
    audit_key_check,
)


def configuration_checks(settings: Settings) -> list[Check]:
    """Every check that needs only the settings, in a stable order."""
    core = [check(settings) for check in CONFIG_CHECKS]
    return core + registry.checks(settings) + https_urls(settings)


def refusal(check: Check) -> str:
    """The one line that says why production will not start."""
    return (
        f"Refusing to start (COREGROUP_ENV=production): {check.setting} {check.message}. "
        f"To fix: {check.fix}. (`coregroup doctor` lists every check.)"
    )


def unsafe_for_production(settings: Settings) -> str | None:
    """Why this configuration must not serve real data, when COREGROUP_ENV=production."""
    if not settings.production:
        return None
    for check in configuration_checks(settings):
        if not check.ok and check.blocks_production:
            return refusal(check)
    return None


def settings_for_start() -> Settings:
    """The settings, or exit 2 with one clear line (a typo'd COREGROUP_ENV, unsafe production)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        for line in settings_problems(exc):
            typer.echo(f"Refusing to start: {line}.", err=True)
        raise typer.Exit(code=2) from None
    problem = unsafe_for_production(settings)
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(code=2)
    return settings
