"""Question sets: every shipped file loads, broken files are named precisely, translations match."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands.sets import validate_paths
from prompts.errors import QuestionSetError
from prompts.loader import SHIPPED_DIR, Catalogue, load_catalogue, load_file

SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
PRACTICE_FORMATS = {
    "appendix1",
    "checkin",
    "learning_review",
    "strategic_managers",
    "action_learning",
    "seven_minute_briefing",
}

GOOD = """\
id: our_set
version: 1
title: Our set
summary: A short set.
purpose: To think together.
questions:
  - id: first
    headline: How is it going?
    kind: text
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_loads(path: Path) -> None:
    qset = load_file(path)
    expected_lang = path.suffixes[0][1:] if len(path.suffixes) > 1 else "en"
    assert path.name.split(".")[0] == qset.id
    assert qset.language == expected_lang
    assert qset.summary and qset.purpose and qset.questions


def test_every_practice_format_ships_in_english_and_welsh(catalogue: Catalogue) -> None:
    assert set(catalogue.ids()) >= PRACTICE_FORMATS
    for set_id in PRACTICE_FORMATS:
        assert catalogue.get(set_id, "cy").language == "cy", set_id
        assert catalogue.get(set_id, "en").language == "en", set_id


def test_welsh_and_english_versions_ask_the_same_questions(catalogue: Catalogue) -> None:
    for (set_id, lang), qset in catalogue.sets.items():
        if lang == "en":
            continue
        english = catalogue.get(set_id, "en")
        assert [(q.id, q.kind, q.roles, q.choice_values) for q in qset.questions] == [
            (q.id, q.kind, q.roles, q.choice_values) for q in english.questions
        ], set_id
        assert (qset.version, qset.roles, qset.kind) == (
            english.version,
            english.roles,
            english.kind,
        )
        # A translation that was never translated is not a translation.
        assert qset.purpose != english.purpose, set_id
    assert validate_paths([SHIPPED_DIR]) == []


@pytest.mark.parametrize("set_id", sorted(PRACTICE_FORMATS - {"appendix1", "checkin"}))
def test_new_formats_end_with_a_was_this_useful_question(catalogue: Catalogue, set_id: str) -> None:
    last = catalogue.get(set_id).questions[-1]
    assert last.purpose == "feedback"
    assert last.kind in ("choice", "scale")
    assert last.audience == "facilitator"  # feedback is for the facilitator, not the record
    assert "useful" in last.headline


def test_action_learning_asks_each_role_its_own_questions(catalogue: Catalogue) -> None:
    qset = catalogue.get("action_learning")
    assert qset.roles == ("presenter", "enabler", "observer")
    asked = {role: {q.id for q in qset.questions_for(role)} for role in qset.roles}
    assert {"issue", "reflect", "experiment", "act"} <= asked["presenter"]
    assert "issue" not in asked["enabler"] and "issue" not in asked["observer"]
    assert "good_questions" in asked["enabler"] and "noticed" in asked["observer"]
    for role in qset.roles:  # everyone closes the cycle and can give feedback
        assert {"last_time", "takeaway", "useful"} <= asked[role]


def test_learning_review_follows_the_event_shape(catalogue: Catalogue) -> None:
    headlines = [q.headline for q in catalogue.get("learning_review").questions]
    assert headlines[2] == "Why did we do that then?"
    assert "differently" in headlines[3] and "helped" in headlines[3]
    assert "feel about the process" in headlines[-2]


BROKEN = {
    "missing id": (GOOD.replace("id: our_set\n", ""), "id: Field required"),
    "bad kind": (GOOD.replace("kind: text", "kind: essay"), "questions[0].kind"),
    "duplicate question ids": (
        GOOD + "  - id: first\n    headline: Again?\n    kind: text\n",
        "question id 'first' is used twice",
    ),
    "choice without choices": (
        GOOD.replace("kind: text", "kind: choice"),
        "questions[0]: Value error, a 'choice' question needs at least two choices",
    ),
    "role not declared": (
        GOOD + "    roles: [presenter]\n",
        "names roles not declared by the set: ['presenter']",
    ),
    "yaml syntax": (GOOD.replace("title: Our set", "title: [Our set"), "not valid YAML"),
    "not a mapping": ("- just\n- a list\n", "must be a mapping"),
    "unknown field": (GOOD.replace("summary:", "sumary: x\nsummary:"), "sumary: Extra inputs"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_set_names_the_file_and_the_field(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    path = write(tmp_path, "ours.yaml", text)

    with pytest.raises(QuestionSetError) as caught:
        load_file(path)

    assert str(path) in str(caught.value)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    # The same message reaches `coregroup sets validate`, prefixed with the file.
    assert any(line.startswith(f"{path}: ") and expected in line for line in validate_paths([path]))


def test_a_broken_organisation_folder_stops_start_up(tmp_path: Path) -> None:
    write(tmp_path, "ours.yaml", GOOD.replace("kind: text", "kind: essay"))
    with pytest.raises(QuestionSetError, match=r"ours\.yaml"):
        load_catalogue(tmp_path)


def test_an_organisation_set_loads_alongside_the_shipped_ones(tmp_path: Path) -> None:
    write(tmp_path, "ours.yaml", GOOD)
    catalogue = load_catalogue(tmp_path)
    assert catalogue.get("our_set").title == "Our set"
    assert catalogue.has("appendix1")
    assert validate_paths([tmp_path]) == []


def test_an_organisation_set_may_not_reuse_a_shipped_id(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", GOOD.replace("id: our_set", "id: appendix1"))
    problems = validate_paths([tmp_path])
    assert problems == [
        f"{path}: id: 'appendix1' (en) is already used by {SHIPPED_DIR / 'appendix1.yaml'}; "
        "choose another id"
    ]


def test_a_translation_that_drifts_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "ours.yaml", GOOD)
    welsh = write(
        tmp_path,
        "ours.cy.yaml",
        GOOD.replace("version: 1", "version: 1\nlanguage: cy").replace("id: first", "id: cyntaf"),
    )
    problems = validate_paths([tmp_path])
    assert len(problems) == 1
    assert problems[0].startswith(f"{welsh}: questions[0]: 'cyntaf' (text) does not match")
