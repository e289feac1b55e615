"""Structured logs: one JSON object a line, ids kept, anything that could be typed text withheld;
and the server refuses to start in production with unauthenticated Teams."""

from __future__ import annotations

import io
import json
import logging

from typer.testing import CliRunner

from bot.cli import app
from bot.commands.serve import unsafe_for_production
from bot.logging import configure_logging
from bot.settings import Settings, get_settings

TYPED = "She said dad hits her"


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_logs_are_json_with_ids_and_no_typed_text() -> None:
    stream = io.StringIO()
    handler = configure_logging(logging.INFO, stream)
    try:
        log = logging.getLogger("handlers.example")
        log.info("refused", extra={"event": "Press", "error": "NotAllowed", "session": 12})
        log.info("answer was %s for %d", TYPED, 7)
        log.warning("odd", extra={"detail": TYPED, "event": TYPED * 5})
        try:
            raise ValueError(TYPED)
        except ValueError:
            log.exception("failed", extra={"event": "FormSubmit"})
        logging.getLogger("slack_sdk.web").info("sending body %s", TYPED)  # quietened
    finally:
        logging.getLogger().removeHandler(handler)
    lines = _lines(stream)
    assert [x["msg"] for x in lines] == [
        "refused",
        "answer was [redacted] for 7",
        "odd",
        "failed",
    ]
    assert lines[0]["event"] == "Press" and lines[0]["session"] == 12
    assert lines[2]["detail"] == "[redacted]" and lines[2]["event"] == "[redacted]"
    assert "ValueError" in lines[3]["exc"] and "test_logging.py" in lines[3]["exc"]
    assert TYPED not in stream.getvalue()
    assert all(x["level"] in ("info", "warning", "error") and x["at"] for x in lines)


def test_production_refuses_unauthenticated_teams() -> None:
    unsafe = Settings(_env_file=None, teams_allow_unauthenticated=True, coregroup_env="production")  # type: ignore[call-arg]
    assert "TEAMS_ALLOW_UNAUTHENTICATED" in (unsafe_for_production(unsafe) or "")
    dev = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]
    assert unsafe_for_production(dev) is None
    prod = Settings(_env_file=None, coregroup_env="production")  # type: ignore[call-arg]
    assert unsafe_for_production(prod) is None


def test_serve_exits_before_listening_when_unsafe() -> None:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["serve", "--port", "0"],
            env={"TEAMS_ALLOW_UNAUTHENTICATED": "true", "COREGROUP_ENV": "production"},
        )
    finally:
        get_settings.cache_clear()
        for h in [h for h in logging.getLogger().handlers if getattr(h, "_coregroup", False)]:
            logging.getLogger().removeHandler(h)
    assert result.exit_code == 2
    assert "Refusing to start" in result.output
