"""Load and validate question sets: the shipped ones and an organisation's own folder.

A broken set stops start-up with an error that names the file and the field, because a
half-loaded set would put the wrong questions in front of a core group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from prompts.errors import QuestionSetError
from prompts.schema import QuestionSet

SHIPPED_DIR = Path(__file__).parent / "sets"
DEFAULT_SET = "appendix1"


def _field_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_file(path: Path) -> QuestionSet:
    """Parse and validate one YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise QuestionSetError(path, [f"not valid YAML: {exc}"]) from exc
    except OSError as exc:
        raise QuestionSetError(path, [f"cannot be read: {exc.strerror}"]) from exc
    if not isinstance(raw, dict):
        raise QuestionSetError(path, ["the file must be a mapping with id, version, questions…"])
    try:
        return QuestionSet.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise QuestionSetError(path, problems) from exc


@dataclass
class Catalogue:
    """Every loaded set, by id and language."""

    sets: dict[tuple[str, str], QuestionSet] = field(default_factory=dict)
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)

    def add(self, qset: QuestionSet, path: Path) -> None:
        key = (qset.id, qset.language)
        if key in self.sets:
            raise QuestionSetError(
                path,
                [f"id '{qset.id}' ({qset.language}) is already defined in {self.sources[key]}"],
            )
        self.sets[key] = qset
        self.sources[key] = path

    def get(self, set_id: str, language: str = "en") -> QuestionSet:
        """The set in the wanted language, falling back to English."""
        found = self.sets.get((set_id, language)) or self.sets.get((set_id, "en"))
        if found is None:
            raise KeyError(set_id)
        return found

    def has(self, set_id: str) -> bool:
        return any(key[0] == set_id for key in self.sets)

    def ids(self) -> list[str]:
        return sorted({key[0] for key in self.sets})


def load_catalogue(extra_dir: Path | None = None) -> Catalogue:
    """The shipped sets plus an organisation's folder of YAML sets (if configured)."""
    catalogue = Catalogue()
    dirs = [SHIPPED_DIR] + ([extra_dir] if extra_dir else [])
    for folder in dirs:
        if not folder.is_dir():
            raise QuestionSetError(folder, ["the question set folder does not exist"])
        for path in sorted(folder.glob("*.yaml")):
            catalogue.add(load_file(path), path)
    if not catalogue.has(DEFAULT_SET):
        raise QuestionSetError(SHIPPED_DIR, [f"the default set '{DEFAULT_SET}' is missing"])
    return catalogue
