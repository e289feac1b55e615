"""Is this configuration safe for real data? The checks behind the production guard and doctor.

With ``COREGROUP_ENV=production``, ``coregroup serve`` and ``coregroup remind`` refuse to start
on the first check that fails, with one line naming the setting. ``coregroup doctor`` prints
every check (and a few more that need the database). Secrets are never printed, only whether
they are set and fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import typer
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.settings import Settings, get_settings, settings_problems
from storage import audit_key


@dataclass(frozen=True)
class Check:
    """One check's outcome: what it is about, whether it passed, and how to fix it."""

    setting: str
    ok: bool
    message: str
    fix: str = ""
    blocks_production: bool = True


def _ok(setting: str, message: str) -> Check:
    return Check(setting, True, message)


def _problem(setting: str, message: str, fix: str, *, blocks: bool = True) -> Check:
    return Check(setting, False, message, fix, blocks)


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


def slack_pairing(settings: Settings) -> Check:
    signing = bool(settings.slack_signing_secret)
    oauth_id, oauth_secret = bool(settings.slack_client_id), bool(settings.slack_client_secret)
    tokens = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_APP_TOKEN", settings.slack_app_token),
            ("SLACK_CLIENT_ID", oauth_id),
            ("SLACK_CLIENT_SECRET", oauth_secret),
        )
        if value
    ]
    if oauth_id != oauth_secret:
        missing, present = ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")[:: 1 if oauth_id else -1]
        return _problem(
            missing,
            f"not set, but {present} is: installing into workspaces cannot work",
            "set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information), or neither",
        )
    if tokens and not signing:
        return _problem(
            "SLACK_SIGNING_SECRET",
            f"not set, but {tokens[0]} is: Slack would stay switched off",
            "set SLACK_SIGNING_SECRET from your Slack app's Basic Information page",
        )
    if signing and not (settings.slack_bot_token or oauth_id):
        return _problem(
            "SLACK_BOT_TOKEN",
            "not set (nor SLACK_CLIENT_ID), but SLACK_SIGNING_SECRET is: Slack is half set up",
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        )
    return _ok("SLACK_*", "Slack is set up" if signing else "Slack is not used")


def teams_credentials(settings: Settings) -> Check:
    managed = settings.microsoft_app_type.strip().lower() == "userassignedmsi"
    if settings.microsoft_app_id and not settings.microsoft_app_password and not managed:
        return _problem(
            "MICROSOFT_APP_PASSWORD",
            "not set, but MICROSOFT_APP_ID is: Teams cannot get a token to reply",
            "set MICROSOFT_APP_PASSWORD to the Azure Bot's client secret "
            "(or MICROSOFT_APP_TYPE=UserAssignedMSI on a managed identity)",
        )
    if settings.microsoft_app_password and not settings.microsoft_app_id:
        return _problem(
            "MICROSOFT_APP_ID",
            "not set, but MICROSOFT_APP_PASSWORD is: Teams is half set up",
            "set MICROSOFT_APP_ID to the Azure Bot's app (client) id",
        )
    return _ok("MICROSOFT_APP_*", "Teams is set up" if settings.microsoft_app_id else "no Teams")


def teams_authentication(settings: Settings) -> Check:
    name = "TEAMS_ALLOW_UNAUTHENTICATED"
    if settings.teams_allow_unauthenticated:
        return _problem(
            name,
            "is on: anyone could post Teams activities without a token",
            f"remove {name} (it is for local development only)",
        )
    return _ok(name, "off: every Teams activity must carry a valid token")


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
    slack_pairing,
    teams_credentials,
    teams_authentication,
    audit_key_check,
)


def configuration_checks(settings: Settings) -> list[Check]:
    """Every check that needs only the settings, in a stable order."""
    return [check(settings) for check in CONFIG_CHECKS] + https_urls(settings)


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
