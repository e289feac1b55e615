"""Structured JSON logs that can carry ids, never what people wrote.

Two guarantees, applied to every record that reaches the process's log handler (ours and every
library's):

- :class:`PrivacyFilter` keeps a message's *template* but redacts string arguments, keeps extra
  fields only when they are numbers/booleans or named in :data:`SAFE_FIELDS`, and drops exception
  messages (a database error can quote a row; an exception can quote what was typed). Tracebacks
  keep their frames and the exception's type.
- :class:`JsonFormatter` writes one JSON object a line, for log shipping and search.

So a child reference, a name or an answer reaches the log only if code puts it in a message
template, which review forbids and the tests check over whole dialogues.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from bot.platforms import registry

REDACTED = "[redacted]"
# Extra fields whose (short) string values are kinds or ids by construction.
SAFE_FIELDS = frozenset(
    {
        "event",
        "error",
        "intent",
        "reason",
        "kind",
        "action",
        "platform",
        "status",
        "method",
        "route",
        "outcome",
        "result",
        "table",
        "head",  # an audit anchor's hash
    }
)
MAX_SAFE_CHARS = 80
# Libraries that log request bodies or SQL parameters at DEBUG/INFO: warnings only. Each
# platform names its own SDKs (``Platform.loggers``).
QUIET_LOGGERS = ("sqlalchemy", "aiosqlite", "httpx")
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _safe_arg(value: object) -> object:
    return value if isinstance(value, int | float | bool) or value is None else REDACTED


def _safe_field(key: str, value: object) -> object:
    if isinstance(value, int | float | bool) or value is None:
        return value
    if key in SAFE_FIELDS and isinstance(value, str) and len(value) <= MAX_SAFE_CHARS:
        return value
    if key in SAFE_FIELDS and isinstance(value, list | tuple):
        return [_safe_field(key, v) for v in value]
    return REDACTED


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields a record carries (everything not standard on a LogRecord)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class PrivacyFilter(logging.Filter):
    """Redacts anything in a record that could be practitioner text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_privacy_checked", False):
            return True
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            try:
                record.msg = str(record.msg) % tuple(_safe_arg(a) for a in args)
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        else:
            record.msg = str(record.msg)
        for key, value in extra_fields(record).items():
            setattr(record, key, _safe_field(key, value))
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, _exc, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb)) if tb else ""
            name = exc_type.__name__ if exc_type else "Exception"
            record.exc_text = f"Traceback (message withheld):\n{frames}{name}"
            record.exc_info = None
        record.stack_info = None
        record._privacy_checked = True
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the extra fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(extra_fields(record))
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def make_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(PrivacyFilter())
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging(level: int | str = logging.INFO, stream: Any = None) -> logging.Handler:
    """Send every log record, redacted, as JSON to stderr (or ``stream``). Idempotent."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_coregroup", False)]:
        root.removeHandler(old)
    handler = make_handler(stream)
    handler._coregroup = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS + registry.chatty_loggers():
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
