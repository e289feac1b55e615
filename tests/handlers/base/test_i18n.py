"""Language per person and per organisation, refusals in the reader's language, and a string
catalogue that has every key the handlers use, in English and Welsh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.messages import Button, Buttons, Message, Paragraph
from prompts import strings
from prompts.loader import load_catalogue
from prompts.strings import LANGUAGES, catalogue, t
from tests.conftest import repo_root
from tests.factories.console import accessibility_problems

HANDLERS = repo_root() / "handlers"


# Dotted names that are not UI strings: audit actions and button actions the router matches.
NOT_KEYS = re.compile(r"action\s*(?:=|==)\s*\"([^\"]+)\"|\"([a-z_]+\.[a-z_]+)\":\s*\(")


def _keys_in_code() -> set[str]:
    """Every literal that names a UI string in handlers/: t("x.y"), key="x.y", phrase("x.y")…"""
    sections = {key.split(".")[0] for key in catalogue("en")}
    names = "|".join(sorted(sections))
    pattern = re.compile(r"[\"']((?:" + names + r")\.[a-z0-9_]+)[\"']")
    found: set[str] = set()
    not_keys: set[str] = set()
    for path in sorted(Path(HANDLERS).rglob("*.py")):
        code = path.read_text(encoding="utf-8")
        found |= set(pattern.findall(code))
        not_keys |= {a or b for a, b in NOT_KEYS.findall(code)}
    return found - not_keys


def test_the_key_scan_finds_the_keys_handlers_use() -> None:
    keys = _keys_in_code()
    # The scan must see real uses, or the next test proves nothing.
    assert {"dialogue.start", "errors.only_facilitator", "close.done", "help.start"} <= keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_used_in_handlers_exists_in_every_language(lang: str) -> None:
    strings_in_lang = catalogue(lang)
    missing = sorted(k for k in _keys_in_code() if k not in strings_in_lang)
    assert missing == [], f"missing in {lang}.yaml: {missing}"
    # Keys built at run time: the session roles the shipped sets declare, and language names.
    roles = {role for qset in load_catalogue().sets.values() for role in qset.roles}
    built = [f"roles.{role}" for role in roles] + [f"language.name_{c}" for c in LANGUAGES]
    assert [k for k in built if k not in strings_in_lang] == []


def test_a_key_missing_in_welsh_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    real = strings.catalogue

    def half_translated(lang: str) -> dict[str, str]:
        found = dict(real(lang))
        if lang == "cy":
            found.pop("dialogue.start")
        return found

    monkeypatch.setattr(strings, "catalogue", half_translated)
    assert t("dialogue.start", "cy") == "Start"
    assert t("dialogue.skip", "cy") == "Hepgor"


def test_a_translated_phrase_inside_a_sentence_follows_the_sentence() -> None:
    doing = strings.phrase("doing.close")
    assert t("errors.only_facilitator", "en", doing=doing) == (
        "Only the facilitator can close this session."
    )
    assert t("errors.only_facilitator", "cy", doing=doing) == (
        "Dim ond yr hwylusydd sy'n gallu cau'r sesiwn hon."
    )


def test_repeated_labels_without_spoken_text_are_reported() -> None:
    """The accessibility check used over whole dialogues must be able to fail."""
    same = Message(
        text="Check your answers",
        blocks=(Buttons((Button("Change", "dlg.change", "1:a"), Button("Change", "dlg.change"))),),
    )
    assert accessibility_problems(same, "review")
    no_text = Message(text=" ", blocks=(Paragraph(("Hi",)),))
    assert accessibility_problems(no_text, "dm")


async def test_a_person_chooses_welsh_for_themselves(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("hv", "language cy")
    assert "Cymraeg" in bot.last_reply("hv").text
    await bot.command("ro", "")
    assert [b.label for b in bot.dialogue("hv").buttons()] == ["Dechrau", "Dim nawr"]
    assert [b.label for b in bot.dialogue("sw").buttons()] == ["Start", "Not now"]
    # The deadline's day and month are in the reader's language too.
    assert "Iau 05 Maw" in bot.dialogue("hv").text, bot.dialogue("hv").text
    assert "Thu 05 Mar" in bot.dialogue("sw").text, bot.dialogue("sw").text
    # The channel reads the organisation's language, still English.
    assert "have reflected" in bot.channel_log()[-1].text


async def test_organisation_default_with_a_personal_english_override(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", "language cy org")  # ro set up the first group, so is an admin
    assert "Cymraeg" in bot.last_reply("ro").text
    await bot.command("sw", "language en")
    await bot.command("ro", "")
    assert "wedi myfyrio" in bot.channel_log()[-1].text
    assert bot.button(bot.dialogue("hv"), "Dechrau")
    assert bot.button(bot.dialogue("sw"), "Start")
    await bot.command("school", "help")
    assert "Dyma beth alla i ei wneud" in bot.last_reply("school").text


async def test_only_an_admin_sets_the_organisation_language(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("hv", "language cy")
    await bot.command("hv", "language en org")
    refusal = bot.last_reply("hv").text
    assert refusal == t("errors.language_org_admin", "cy")  # refused in her own language
    await bot.command("hv", "language fr")
    assert "/reflect language cy" in bot.last_reply("hv").text


async def test_refusals_name_the_facilitator_in_the_readers_language(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", "")
    await bot.command("sw", "language cy")
    await bot.command("sw", "close")
    reply = bot.last_reply("sw")
    assert reply.text == "Dim ond yr hwylusydd sy'n gallu cau'r sesiwn hon."
    rendered = " ".join(
        str(span) for block in reply.blocks if isinstance(block, Paragraph) for span in block.spans
    )
    assert "Yr hwylusydd yw" in rendered and "ro" in rendered
