"""The UI string catalogue: every key in every language, with the same placeholders."""

from __future__ import annotations

import pytest

from prompts.strings import LANGUAGES, catalogue, normalise_language, placeholders, t

# Keys the handlers and adapters rely on (ux.md); renaming one is a contract change.
WIRED = [
    "dialogue.invitation",
    "dialogue.start",
    "dialogue.not_now",
    "dialogue.question_footer",
    "dialogue.back",
    "dialogue.skip",
    "dialogue.add_comment",
    "dialogue.change",
    "dialogue.submit",
    "dialogue.review_title",
    "dialogue.thanks",
    "progress.count",
    "progress.remind",
    "progress.close",
    "errors.only_facilitator_close",
    "session.closed",
    "errors.unknown_command",
    "errors.answer_too_long",
]


def test_every_key_exists_in_every_language_with_the_same_placeholders() -> None:
    english = catalogue("en")
    assert english, "the English catalogue is empty"
    for lang in LANGUAGES:
        other = catalogue(lang)
        assert sorted(set(english) - set(other)) == [], f"missing in {lang}"
        assert sorted(set(other) - set(english)) == [], f"only in {lang}"
        different = [k for k in english if placeholders(english[k]) != placeholders(other[k])]
        assert different == [], f"{lang}: placeholders differ in {different}"
        assert all(text.strip() for text in other.values()), f"{lang}: an empty string"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_fills_in_without_error(lang: str) -> None:
    for key, template in catalogue(lang).items():
        values = {name: "X" for name in placeholders(template)}
        out = t(key, lang, **values)
        assert "{" not in out and "}" not in out, (lang, key)


def test_the_keys_handlers_use_are_there() -> None:
    assert [k for k in WIRED if k not in catalogue("en")] == []


def test_footer_and_refusal_read_as_in_the_design() -> None:
    assert (
        t("dialogue.question_footer", n=4, total=14, minutes=6)
        == "Question 4 of 14 · about 6 minutes left"
    )
    assert (
        t("errors.only_facilitator_close", facilitator="@RO")
        == "Only the facilitator (@RO) can close this session."
    )
    assert t("progress.count", "cy", done=3, total=5) == "3 o 5 wedi myfyrio"


def test_welsh_is_used_when_asked_for_and_english_otherwise() -> None:
    assert t("dialogue.start", "cy") == "Dechrau"
    assert t("dialogue.start", "cy-GB") == "Dechrau"
    assert t("dialogue.start", "fr") == "Start"
    assert t("dialogue.start") == "Start"
    assert normalise_language(None) == "en"


def test_yes_and_no_keys_are_text_not_booleans() -> None:
    # A bare `yes:` key in YAML 1.1 is the boolean True; the loader insists on text keys.
    assert t("dialogue.yes") == "Yes" and t("dialogue.no", "cy") == "Na"


def test_a_value_is_never_read_as_a_template() -> None:
    out = t("errors.only_facilitator_close", facilitator="{facilitator} <!channel>")
    assert out == "Only the facilitator ({facilitator} <!channel>) can close this session."


def test_an_unknown_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        t("dialogue.no_such_thing")


def test_a_missing_value_leaves_the_placeholder_rather_than_failing() -> None:
    assert t("progress.count", done=2) == "2 of {total} have reflected"
