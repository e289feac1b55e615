"""``coregroup sets``: list the question sets, and check an organisation's own before use.

``sets validate`` reads every YAML file it is given (or every file in a folder), prints one
line per problem naming the file and the field, and exits 1 if there is any problem, so it can
guard a deployment the same way start-up does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings
from prompts.errors import QuestionSetError
from prompts.loader import SHIPPED_DIR, load_catalogue, load_file
from prompts.schema import QuestionSet

SetKey = tuple[str, str]


def _files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
            if not found:
                problems.append(f"{path}: no .yaml files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def translation_problems(sets: dict[SetKey, QuestionSet], sources: dict[SetKey, Path]) -> list[str]:
    """A translated set must ask the same questions, of the same kinds, in the same order."""
    problems = []
    for (set_id, lang), qset in sorted(sets.items()):
        english = sets.get((set_id, "en"))
        if lang == "en" or english is None:
            continue
        where = sources[(set_id, lang)]
        if qset.version != english.version:
            problems.append(
                f"{where}: version: {qset.version}, but the English set has {english.version}"
            )
        if qset.roles != english.roles:
            problems.append(f"{where}: roles: must be the same as in the English set")
        shape = [(q.id, q.kind, q.roles, q.choice_values) for q in qset.questions]
        want = [(q.id, q.kind, q.roles, q.choice_values) for q in english.questions]
        for i, (got, exp) in enumerate(zip(shape, want, strict=False)):
            if got != exp:
                problems.append(
                    f"{where}: questions[{i}]: '{got[0]}' ({got[1]}) does not match the English "
                    f"'{exp[0]}' ({exp[1]}): same ids, kinds, roles and choices, in the same order"
                )
                break
        else:
            if len(shape) != len(want):
                problems.append(
                    f"{where}: questions: {len(shape)} questions, the English set has {len(want)}"
                )
    return problems


def validate_paths(paths: list[Path], *, against_shipped: bool = True) -> list[str]:
    """Every problem in these files, as 'file: field: problem' lines (empty if all good)."""
    files, problems = _files(paths)
    sets: dict[SetKey, QuestionSet] = {}
    sources: dict[SetKey, Path] = {}
    if against_shipped:
        for path in sorted(SHIPPED_DIR.glob("*.yaml")):
            try:
                qset = load_file(path)
            except QuestionSetError:
                continue  # reported below if it was asked for
            sets[(qset.id, qset.language)] = qset
            sources[(qset.id, qset.language)] = path
    for path in files:
        try:
            qset = load_file(path)
        except QuestionSetError as exc:
            problems += [f"{path}: {problem}" for problem in exc.problems]
            continue
        key = (qset.id, qset.language)
        other = sources.get(key)
        if other is not None and other.resolve() != path.resolve():
            problems.append(
                f"{path}: id: '{qset.id}' ({qset.language}) is already used by {other}; "
                "choose another id"
            )
            continue
        sets[key] = qset
        sources[key] = path
    return problems + translation_problems(sets, sources)


def register(app: typer.Typer) -> None:
    sets_app = typer.Typer(
        help="Question sets: list them, or check an organisation's own.", no_args_is_help=True
    )

    @sets_app.command("list")
    def list_sets() -> None:
        """List every question set: shipped ones and the organisation's folder."""
        settings = Settings()
        try:
            catalogue = load_catalogue(settings.coregroup_sets_dir)
        except QuestionSetError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=1) from None
        for set_id in catalogue.ids():
            qset = catalogue.get(set_id)
            langs = sorted(lang for sid, lang in catalogue.sets if sid == set_id)
            typer.echo(
                f"{set_id:<24} v{qset.version}  {','.join(langs):<6} "
                f"{len(qset.questions):>2} questions  ~{qset.minutes} min  {qset.title}"
            )

    @sets_app.command("validate")
    def validate(
        paths: Annotated[
            list[Path] | None,
            typer.Argument(
                help="YAML files or folders. Default: COREGROUP_SETS_DIR and the shipped sets."
            ),
        ] = None,
    ) -> None:
        """Check question sets; print the file and field of each problem; exit 1 on any."""
        if not paths:
            settings = Settings()
            paths = [SHIPPED_DIR] + (
                [settings.coregroup_sets_dir] if settings.coregroup_sets_dir else []
            )
        problems = validate_paths(list(paths))
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            typer.echo(f"{len(problems)} problem(s) found.", err=True)
            raise typer.Exit(code=1)
        typer.echo("All question sets are valid.")

    app.add_typer(sets_app, name="sets")
