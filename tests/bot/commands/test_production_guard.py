"""With COREGROUP_ENV=production, `coregroup serve` and `coregroup remind` refuse every unsafe
setting with one line naming it; a typo'd COREGROUP_ENV refuses to start at all."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from bot.checks import settings_for_start
from bot.cli import app
from bot.settings import Settings, get_settings
from storage import audit_key
from tests.conftest import repo_root

# A production configuration that passes every check (the database is never contacted here).
SAFE = {
    "COREGROUP_ENV": "production",
    "DATABASE_URL": "postgresql://coregroup@127.0.0.1:5432/never_contacted",
    "COREGROUP_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "COREGROUP_AUDIT_KEY": "an-audit-key-that-is-long-enough-0123456789",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "signing-secret",
    "SLACK_API_URL": "https://slack.com/api/",
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
    "MICROSOFT_APP_PASSWORD": "client-secret",
}
DROP = None  # an unsafe case that removes the setting

UNSAFE = {
    "no encryption key": ({"COREGROUP_ENCRYPTION_KEY": DROP}, "COREGROUP_ENCRYPTION_KEY"),
    "a broken encryption key": ({"COREGROUP_ENCRYPTION_KEY": "nope"}, "COREGROUP_ENCRYPTION_KEY"),
    "SQLite": ({"DATABASE_URL": "sqlite:///coregroup.db"}, "DATABASE_URL"),
    "a Slack token without a signing secret": (
        {"SLACK_SIGNING_SECRET": DROP},
        "SLACK_SIGNING_SECRET",
    ),
    "a Slack signing secret without a token": ({"SLACK_BOT_TOKEN": DROP}, "SLACK_BOT_TOKEN"),
    "Slack OAuth without its secret": ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_SECRET"),
    "a Teams app id without a password": (
        {"MICROSOFT_APP_PASSWORD": DROP},
        "MICROSOFT_APP_PASSWORD",
    ),
    "unauthenticated Teams": (
        {"TEAMS_ALLOW_UNAUTHENTICATED": "true"},
        "TEAMS_ALLOW_UNAUTHENTICATED",
    ),
    "a plain-http Slack API": ({"SLACK_API_URL": "http://slack.test/api/"}, "SLACK_API_URL"),
    "no audit key": ({"COREGROUP_AUDIT_KEY": DROP}, "COREGROUP_AUDIT_KEY"),
    "a short audit key": ({"COREGROUP_AUDIT_KEY": "short"}, "COREGROUP_AUDIT_KEY"),
    "the development audit key": (
        {"COREGROUP_AUDIT_KEY": audit_key.DEVELOPMENT_KEY},
        "COREGROUP_AUDIT_KEY",
    ),
}


def _environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "COREGROUP_", "DATABASE_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield
    get_settings.cache_clear()


def test_a_safe_production_configuration_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(monkeypatch, SAFE)
    settings = settings_for_start()
    assert settings.production and settings.coregroup_env == "production"


@pytest.mark.parametrize("case", list(UNSAFE), ids=list(UNSAFE))
def test_each_unsafe_production_setting_refuses_start_naming_it(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    change, setting = UNSAFE[case]
    _environment(monkeypatch, {**SAFE, **change})
    with pytest.raises(typer.Exit) as refused:
        settings_for_start()
    assert refused.value.exit_code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("Refusing to start (COREGROUP_ENV=production): " + setting + " ")
    assert "To fix:" in line


@pytest.mark.parametrize("case", list(UNSAFE), ids=list(UNSAFE))
def test_outside_production_the_same_settings_start(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    change, _setting = UNSAFE[case]
    _environment(monkeypatch, {**SAFE, **change, "COREGROUP_ENV": "development"})
    assert not settings_for_start().production


@pytest.mark.parametrize("typo", ["prod", "Prodution", "staging", ""])
def test_an_unknown_environment_refuses_to_start(
    typo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, {**SAFE, "COREGROUP_ENV": typo})
    with pytest.raises(typer.Exit) as refused:
        settings_for_start()
    assert refused.value.exit_code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "COREGROUP_ENV must be one of development, test, production" in line


def test_environment_names_are_read_without_regard_to_case() -> None:
    assert Settings(_env_file=None, coregroup_env=" Production ").production  # type: ignore[call-arg]
    assert Settings(_env_file=None, coregroup_env="TEST").coregroup_env == "test"  # type: ignore[call-arg]


def test_remind_refuses_like_serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "never-created.db"
    _environment(monkeypatch, {**SAFE, "DATABASE_URL": f"sqlite:///{db}"})
    result = CliRunner().invoke(app, ["remind"])
    assert result.exit_code == 2
    assert "Refusing to start (COREGROUP_ENV=production): DATABASE_URL is SQLite" in result.output
    assert not db.exists()  # nothing was swept


async def _serve(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run `python -m bot serve` as an operator would; it must exit by itself."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "serve", "--port", "0"),
        cwd=cwd,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, err.decode()


def _process_env(**settings: str) -> dict[str, str]:
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "COREGROUP_", "DATABASE_"))
    }
    return {**kept, "PYTHONPATH": str(repo_root()), **settings}


async def test_serve_process_refuses_a_typo_environment(tmp_path: Path) -> None:
    code, err = await _serve(_process_env(**{**SAFE, "COREGROUP_ENV": "prod"}), tmp_path)
    assert code == 2
    assert "Refusing to start: COREGROUP_ENV must be one of development, test, production" in err
    assert "Traceback" not in err


async def test_serve_process_refuses_production_without_an_encryption_key(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in SAFE.items() if k != "COREGROUP_ENCRYPTION_KEY"}
    code, err = await _serve(_process_env(**env), tmp_path)
    assert code == 2
    refusal = [line for line in err.splitlines() if line.startswith("Refusing to start")]
    assert len(refusal) == 1 and "COREGROUP_ENCRYPTION_KEY not set" in refusal[0]
    assert '"msg": "serving"' not in err


async def test_every_command_refuses_an_unknown_environment_without_a_traceback(
    tmp_path: Path,
) -> None:
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "audit"),
        cwd=tmp_path,
        env=_process_env(COREGROUP_ENV="prod", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert err.decode().strip() == (
        "Cannot read the settings: COREGROUP_ENV must be one of development, test, production, "
        "not 'prod'."
    )
