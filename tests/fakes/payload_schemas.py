"""Every payload the bot sends, checked against the platforms' own validators.

Block Kit goes through ``slack_sdk.models`` (parse, then ``validate_json``, which enforces
Slack's documented limits); Adaptive Cards through the official 1.5 JSON schema (vendored in
tests/schemas/, see its README) with Teams' documented extensions allowed: the card's
``msteams`` property (width, mention entities) and ``choices.data`` on Input.ChoiceSet (the
people picker). The fakes call these on everything they receive and keep what fails.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, Draft7Validator
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
TEAMS_CARD_EXTENSIONS = ("msteams",)
TEAMS_ELEMENT_EXTENSIONS = ("choices.data",)


@lru_cache(maxsize=1)
def _card_validator() -> Draft6Validator:
    schema = json.loads((SCHEMAS / "adaptive-card-1.5.json").read_text("utf-8"))
    return Draft6Validator(schema)


@lru_cache(maxsize=1)
def manifest_validator() -> Draft7Validator:
    schema = json.loads((SCHEMAS / "teams-manifest-1.17.json").read_text("utf-8"))
    return Draft7Validator(schema)


def block_kit_problems(blocks: Any) -> list[str]:
    """What slack_sdk's models refuse in a list of blocks (empty when valid)."""
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems: list[str] = []
    for raw in blocks:
        try:
            block = Block.parse(raw)
            if block is None:
                problems.append(f"unknown block {str(raw)[:60]}")
                continue
            block.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{raw.get('type') if isinstance(raw, dict) else raw}: {exc}")
    return problems


def view_problems(view: Any) -> list[str]:
    """What slack_sdk's View model refuses in a modal or App Home view."""
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
        return [f"view: {exc}"]
    return block_kit_problems(view.get("blocks", []))


def _without_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _without_extensions(v)
            for k, v in node.items()
            if k not in TEAMS_CARD_EXTENSIONS + TEAMS_ELEMENT_EXTENSIONS
        }
    if isinstance(node, list):
        return [_without_extensions(v) for v in node]
    return node


def adaptive_card_problems(card: Any) -> list[str]:
    """Where an Adaptive Card breaks the 1.5 schema (empty when valid)."""
    errors = _card_validator().iter_errors(_without_extensions(card))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors]
