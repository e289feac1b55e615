"""What the prompts layer raises when its files (question sets, themes) are broken.

The message names the file and the field, so whoever maintains the file can fix it; the
handlers show it as written.
"""

from __future__ import annotations

from pathlib import Path


class PromptsError(Exception):
    """Root of the errors the prompts layer raises on purpose."""


class QuestionSetError(PromptsError):
    """A question set file is broken. The message names the file and each bad field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        detail = "; ".join(problems)
        super().__init__(f"Question set {path}: {detail}")


class ThemesError(PromptsError):
    """The shipped themes file cannot be read or is malformed."""
