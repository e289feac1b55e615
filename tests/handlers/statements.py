"""Count the SQL statements one event costs (``before_cursor_execute`` on both engines)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from storage.db import Database


class Statements:
    """The statements sent while counting, as SQL text (whitespace collapsed)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __len__(self) -> int:
        return len(self.sql)

    def reading(self, table: str) -> list[str]:
        """Statements that select from ``table`` (its name as it follows FROM or JOIN)."""
        return [
            q
            for q in self.sql
            if q.startswith("SELECT")
            and (f"FROM {table} " in q + " " or f"FROM {table}\n" in q or f"JOIN {table} " in q)
        ]


@contextmanager
def counting(db: Database) -> Iterator[Statements]:
    seen = Statements()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE")):
            seen.sql.append(" ".join(statement.split()))

    engines = {id(e): e for e in (db._reader.sync_engine, db._writer.sync_engine)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", note)
