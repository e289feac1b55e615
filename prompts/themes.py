"""The shipped themes taxonomy: stable ids for counting, labels for people."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from prompts.errors import ThemesError

THEMES_FILE = Path(__file__).parent / "themes.yaml"


@lru_cache(maxsize=1)
def _load(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThemesError(f"Themes file {path} cannot be read: {exc}") from exc
    items = raw.get("themes") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise ThemesError(f"Themes file {path}: 'themes' must be a non-empty list")
    out: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("id") or not item.get("label"):
            raise ThemesError(f"Themes file {path}: themes[{i}] needs an id and a label")
        out.append((str(item["id"]), str(item["label"])))
    return tuple(out)


def load_themes(path: Path = THEMES_FILE) -> dict[str, str]:
    """Theme id -> label, in the order the file lists them."""
    return dict(_load(path))


def theme_label(theme: str, themes: dict[str, str] | None = None) -> str:
    """A tagged theme as people read it; free-text themes are shown as typed."""
    return (themes if themes is not None else load_themes()).get(theme, theme)
