"""The questions a session is pinned to: the ones it opened with, in the order it had them.

A session stores its questions when it opens (``ReflectionSession.questions``). Wording comes
from the installed set in the reader's language while the question keeps its id and answers
(ids are stable across versions); a question since removed or changed in kind is shown as it
was. Questions added to the set later are never asked in, or shown for, an older session.
"""

from __future__ import annotations

from typing import Any

from handlers.base.core import Core
from prompts.schema import Question, QuestionSet
from storage.models import ReflectionSession


def snapshot(qset: QuestionSet) -> list[dict[str, Any]]:
    """What a new session stores about its questions."""
    return [q.model_dump(mode="json") for q in qset.questions]


def _same_answers(now: Question, then: Question) -> bool:
    return now.kind == then.kind and now.choice_values == then.choice_values


def pinned_set(core: Core, session: ReflectionSession, lang: str = "en") -> QuestionSet:
    """The session's set in ``lang``, with exactly the questions the session opened with.

    Raises ``KeyError`` when the set is no longer installed at all."""
    current = core.sets.get(session.set_id, lang)
    if not session.questions:  # nothing pinned (should not happen after migration 0005)
        return current
    by_id = {q.id: q for q in current.questions}
    questions: list[Question] = []
    for raw in session.questions:
        then = Question.model_validate(raw)
        now = by_id.get(then.id)
        questions.append(now if now is not None and _same_answers(now, then) else then)
    return current.model_copy(
        update={"questions": tuple(questions), "version": session.set_version}
    )
