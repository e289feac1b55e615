"""The validators the fakes run on every payload really refuse bad ones, and the Teams manifest
(with ``supportsFiles`` for the Word record) passes Microsoft's own manifest schema."""

from __future__ import annotations

from bot.platforms.teams.package import manifest
from tests.fakes.payload_schemas import (
    adaptive_card_problems,
    block_kit_problems,
    manifest_validator,
)

APP_ID = "00000000-0000-4000-8000-000000000001"


def test_block_kit_over_slacks_limits_is_caught() -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert block_kit_problems([header])
    assert block_kit_problems([{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}])
    assert block_kit_problems([{**header, "text": {"type": "plain_text", "text": "ok"}}]) == []


def test_a_card_outside_the_1_5_schema_is_caught_but_teams_extensions_are_allowed() -> None:
    good = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "hi", "wrap": True}],
        "msteams": {"width": "Full"},
    }
    assert adaptive_card_problems(good) == []
    assert adaptive_card_problems({**good, "body": [{"type": "TextBlock", "wrap": "yes"}]})
    assert adaptive_card_problems({**good, "body": [{"type": "Marquee", "text": "no"}]})


def test_the_teams_manifest_passes_the_official_schema_and_supports_files() -> None:
    data = manifest(APP_ID, version="1.2.3", website="https://council.example")
    problems = [e.message for e in manifest_validator().iter_errors(data)]
    assert problems == []
    assert data["bots"][0]["supportsFiles"] is True
    broken = {**data, "manifestVersion": "0.1"}
    assert list(manifest_validator().iter_errors(broken))
