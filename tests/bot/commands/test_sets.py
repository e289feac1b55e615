"""``coregroup sets`` as an admin runs it: list the shipped question sets, validate new ones."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()

GOOD_SET = """\
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


def test_sets_list_shows_every_shipped_set_with_its_languages() -> None:
    result = runner.invoke(app, ["sets", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "action_learning" in lines and "seven_minute_briefing" in lines
    assert "cy,en" in lines["learning_review"]


def test_validate_a_good_folder_exits_0(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text(GOOD_SET, encoding="utf-8")
    result = runner.invoke(app, ["sets", "validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "All question sets are valid." in result.output


def test_validate_with_no_paths_checks_the_shipped_sets() -> None:
    result = runner.invoke(app, ["sets", "validate"])
    assert result.exit_code == 0, result.output


def test_validate_prints_file_and_field_and_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_SET, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        GOOD_SET.replace("id: our_set", "id: theirs").replace("kind: text", "kind: essay"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["sets", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: questions[0].kind:" in result.output
    assert str(good) not in result.output
    assert result.output.rstrip().endswith("problem(s) found.")


def test_validate_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = runner.invoke(app, ["sets", "validate", str(missing)])
    assert result.exit_code == 1
    assert f"{missing}: no such file or folder" in result.output
