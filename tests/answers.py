"""Answers as a member leaves them after pressing Submit (for tests that seed the database)."""

from __future__ import annotations

from typing import Any

from storage.models import Answer


def submitted_answer(**fields: Any) -> Answer:
    """An ``Answer`` whose draft has been submitted, so the record and reports may show it."""
    answer = Answer(**fields)
    answer.submitted = True
    answer.submitted_choice = answer.choice
    answer.submitted_comment = answer.comment
    answer.submitted_skipped = answer.skipped
    return answer
