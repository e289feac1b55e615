"""Plain English: every intro, prompt and UI string has a reading age of 12 or below.

Formula: reading age = Flesch-Kincaid grade + 5, where
    FK grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59
(``textstat.flesch_kincaid_grade``). Reading age <= 12 means FK grade <= 7.

FK is only meaningful over a few sentences (one word such as "Cancel" scores grade 8), so
text is assessed per *sentence group*: the sentences of one passage (a set's purpose, its
ground rules together, a question's headline with its guidance, one section of the string
catalogue) are taken in order and cut into groups of at least ``GROUP_WORDS`` words; a short
tail joins the group before it. A hard sentence cannot hide inside a long easy paragraph, and a
short label is read alongside its neighbours, as a person reads it.
``{placeholders}`` are read as the one-syllable word "it".

Syllables come from the British English hyphenation dictionary (``textstat`` language
"en-GB"): textstat only uses CMUdict for "en"/"en_*", and CMUdict is a network download,
which tests must not depend on.

Exempt: the headline and guidance of the ``appendix1`` questions, which quote the Appendix 1
form word for word (the form's own wording, which practitioners know). Its purpose, ground
rules, opening prompt, summary and hints are ours and are checked. Welsh is not scored
(textstat has no Welsh model); its structure is checked in test_sets.py and test_strings.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from textstat.textstat import textstatistics

from prompts.loader import Catalogue
from prompts.schema import QuestionSet
from prompts.strings import catalogue as strings_catalogue

MAX_READING_AGE = 12
MAX_FK_GRADE = MAX_READING_AGE - 5
GROUP_WORDS = 15
VERBATIM_SETS = {"appendix1"}  # question headline + guidance quote the form word for word

_stats = textstatistics()
_stats.set_lang("en-GB")

Passage = tuple[str, list[str]]  # (where, texts that are read together)


def _sentences(text: str) -> list[str]:
    text = re.sub(r"\{[a-z_]+\}", "it", text.strip())
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text) if p]
    return [p if p[-1] in ".!?" else p + "." for p in parts]


def _words(sentences: list[str]) -> int:
    return len(" ".join(sentences).split())


def sentence_groups(passage: list[str]) -> Iterator[str]:
    """The passage's sentences, cut into groups of at least GROUP_WORDS words."""
    groups: list[list[str]] = []
    current: list[str] = []
    for sentence in (s for text in passage for s in _sentences(text)):
        current.append(sentence)
        if _words(current) >= GROUP_WORDS:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return (" ".join(group) for group in groups)


def reading_age(text: str) -> float:
    return float(_stats.flesch_kincaid_grade(text)) + 5


def too_hard(passages: list[Passage]) -> list[str]:
    problems = []
    for where, texts in passages:
        for group in sentence_groups([t for t in texts if t]):
            age = reading_age(group)
            if age > MAX_READING_AGE:
                problems.append(f"{where}: reading age {age:.1f} > {MAX_READING_AGE}: {group!r}")
    return problems


def set_passages(qset: QuestionSet) -> list[Passage]:
    where = qset.id
    passages: list[Passage] = [
        (f"{where}.summary", [qset.summary]),
        (f"{where}.purpose", [qset.purpose]),
        (f"{where}.opening_prompt", [qset.opening_prompt]),
        (f"{where}.ground_rules", list(qset.ground_rules)),
    ]
    for q in qset.questions:
        passages.append((f"{where}.{q.id}.hint", [q.hint]))
        if qset.id not in VERBATIM_SETS:
            passages.append((f"{where}.{q.id}", [q.headline, *q.guidance]))
        passages.append((f"{where}.{q.id}.choices", [c.label for c in q.choices]))
    return passages


def english_sets(catalogue: Catalogue) -> list[QuestionSet]:
    return [qset for (_, lang), qset in sorted(catalogue.sets.items()) if lang == "en"]


def test_every_english_set_reads_at_age_12_or_below(catalogue: Catalogue) -> None:
    sets = english_sets(catalogue)
    assert {s.id for s in sets} >= {"appendix1", "learning_review", "action_learning"}
    problems = [p for qset in sets for p in too_hard(set_passages(qset))]
    assert problems == [], "\n".join(problems)


def test_every_english_ui_string_reads_at_age_12_or_below() -> None:
    by_section: dict[str, list[str]] = {}
    for key, text in strings_catalogue("en").items():
        by_section.setdefault(key.split(".")[0], []).append(text)
    problems = too_hard(list(by_section.items()))
    assert problems == [], "\n".join(problems)


def test_the_check_rejects_hard_text() -> None:
    """The measure must be able to fail, or the two tests above prove nothing."""
    hard = (
        "Notwithstanding organisational considerations, practitioners should systematically "
        "interrogate multidisciplinary safeguarding documentation prior to intervention."
    )
    easy = "Think about the child. What is life like for them? Say what you see."
    assert too_hard([("hard", [hard])])
    assert too_hard([("easy", [easy])]) == []


@pytest.mark.parametrize("label", ["Cancel", "Submit", "Agreed position"])
def test_short_labels_are_pooled_not_scored_alone(label: str) -> None:
    """A two-word label alone scores like a textbook; read with its section it does not."""
    assert reading_age(f"{label}.") > MAX_READING_AGE
    section = [label, "Yes", "No", "Not sure", "Back", "Skip", "Add a comment", "Start"]
    assert list(sentence_groups(section)) == [". ".join(section) + "."]
    assert too_hard([("dialogue", section)]) == []


def test_long_passages_are_cut_into_groups() -> None:
    passage = [
        "One two three four five six seven eight. Nine ten eleven twelve thirteen.",
        "Fourteen fifteen sixteen. Seventeen.",
    ]
    groups = list(sentence_groups(passage))
    assert groups == [
        "One two three four five six seven eight. Nine ten eleven twelve thirteen. "
        "Fourteen fifteen sixteen. Seventeen."
    ]
    assert len(list(sentence_groups(passage * 2))) == 2


def test_choice_labels_make_sense_read_aloud(catalogue: Catalogue) -> None:
    """Screen readers read a button's label alone: it must be there, distinct and short."""
    problems = []
    for (set_id, lang), qset in sorted(catalogue.sets.items()):
        for q in qset.questions:
            if q.kind not in ("yes_no", "choice"):
                continue
            labels = [c.label.strip() for c in q.choices]
            if q.kind == "yes_no":
                assert not labels  # labels come from the UI strings (dialogue.yes/no/not_sure)
                continue
            where = f"{set_id} ({lang}) {q.id}"
            if any(not label for label in labels):
                problems.append(f"{where}: an empty label")
            if len({label.casefold() for label in labels}) != len(labels):
                problems.append(f"{where}: two choices have the same label")
            problems += [f"{where}: '{lb}' is over 75 characters" for lb in labels if len(lb) > 75]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_yes_no_button_labels_are_distinct_and_short(lang: str) -> None:
    strings = strings_catalogue(lang)
    labels = [strings[f"dialogue.{k}"] for k in ("yes", "no", "not_sure")]
    assert all(0 < len(label) <= 75 for label in labels)
    assert len(set(labels)) == 3
