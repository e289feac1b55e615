"""Cutting long text for the record summary: whole sentences, or a clear pointer to the file."""

from __future__ import annotations

from handlers.records.summary import clip


def test_short_text_is_kept_whole() -> None:
    assert clip("All agreed.  The plan holds.", 300, "en") == "All agreed. The plan holds."


def test_long_text_stops_at_a_sentence_and_says_the_rest_is_in_the_file() -> None:
    text = "First point is short. " + "Second point runs on for a while. " * 20
    out = clip(text, 80, "en")
    assert out.startswith("First point is short. Second point runs on for a while.")
    assert out.endswith("(continued in the file)")
    assert "Second point runs on for a while. Second" not in out[:60]


def test_one_overlong_sentence_is_cut_between_words_and_marked_in_welsh_too() -> None:
    text = "word " * 200
    out = clip(text, 50, "cy")
    assert out.endswith("… (yn parhau yn y ffeil)")
    assert len(out) < 50 + len(" (yn parhau yn y ffeil)")
    assert "wor…" not in out  # never mid-word
