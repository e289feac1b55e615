"""The words the bot says around the questions (buttons, progress, errors), in each language.

Strings live in ``prompts/strings/<lang>.yaml`` as nested mappings; code names them by dotted
key, e.g. ``t("dialogue.question_footer", lang, n=4, total=14, minutes=6)``. A string missing in
the wanted language falls back to English, so a half-translated catalogue still works. Values
are filled in as plain text: escaping for Slack or Teams is the adapter's job.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STRINGS_DIR = Path(__file__).parent / "strings"
FALLBACK = "en"
LANGUAGES: tuple[str, ...] = ("en", "cy")

log = logging.getLogger(__name__)


def normalise_language(lang: str | None) -> str:
    """``cy-GB``/``cy_GB``/``CY`` -> ``cy``; anything unknown -> English."""
    code = (lang or FALLBACK).replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else FALLBACK


def _flatten(prefix: str, node: Any, out: dict[str, str], path: Path) -> None:
    if not isinstance(node, dict):
        raise ValueError(f"{path}: '{prefix}' must be a string or a mapping of strings")
    for key, value in node.items():
        # YAML reads a bare yes/no key as a boolean: insist on text so keys stay what they say.
        if not isinstance(key, str):
            raise ValueError(f"{path}: key {key!r} under '{prefix or '(top)'}' must be quoted")
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, str):
            out[dotted] = value.strip()
        else:
            _flatten(dotted, value, out, path)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every string of one language, by dotted key (read once per process)."""
    path = STRINGS_DIR / f"{lang}.yaml"
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    _flatten("", raw, out, path)
    return out


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a string expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _KeepMissing(dict[str, Any]):
    """Leaves an unfilled ``{name}`` visible rather than failing the whole reply."""

    def __missing__(self, key: str) -> str:
        log.warning("UI string placeholder not filled: %s", key)
        return "{" + key + "}"


@dataclass(frozen=True)
class Phrase:
    """A value that is itself a UI string, translated in the same language as its sentence."""

    key: str
    values: tuple[tuple[str, Any], ...] = ()


def phrase(key: str, **values: Any) -> Phrase:
    return Phrase(key, tuple(sorted(values.items())))


def weekday_abbrev(day: date, lang: str = FALLBACK) -> str:
    """'Mon' / 'Llun': the day's short name in ``lang`` (never the server's locale)."""
    return t("dates.weekdays", lang).split()[day.weekday()]


def month_abbrev(day: date, lang: str = FALLBACK) -> str:
    """'Jan' / 'Ion': the month's short name in ``lang``."""
    return t("dates.months", lang).split()[day.month - 1]


def t(key: str, lang: str = FALLBACK, **values: Any) -> str:
    """The string ``key`` in ``lang`` (English if not translated), with ``values`` filled in.

    An unknown key raises ``KeyError``: it is a typo in code, and the catalogue tests catch it.
    A :class:`Phrase` value is translated too, so "Only the facilitator can {doing}" reads in
    one language throughout.
    """
    template = catalogue(normalise_language(lang)).get(key)
    if template is None:
        template = catalogue(FALLBACK)[key]
    filled = {
        name: t(v.key, lang, **dict(v.values)) if isinstance(v, Phrase) else v
        for name, v in values.items()
    }
    return string.Formatter().vformat(template, (), _KeepMissing(filled))
