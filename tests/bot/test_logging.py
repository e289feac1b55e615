"""Structured logs: one JSON object a line, ids kept, anything that could be typed text withheld.

(The production guard's tests are in tests/bot/commands/test_production_guard.py.)"""

from __future__ import annotations

import io
import json
import logging

from bot.logging import configure_logging

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
