"""The facilitator's close form: the group's view of each question, who came, the family,
actions, themes and escalation. Built from the submitted answers only."""

from __future__ import annotations

from collections import Counter

from handlers.base.messages import (
    Form,
    FormField,
    Option,
)
from handlers.base.wording import choice_label
from handlers.reflection.close_checks import (
    NOT_AGREED,
    split_questions,
)
from prompts.schema import Question, QuestionSet
from prompts.strings import t
from prompts.themes import load_themes
from storage.models import (
    ReflectionSession,
)
from storage.submitted import SubmittedAnswer

CLOSE_FORM = "session.close"
ACTION_ROWS = 3
NO_POSITION = "none"
LONG_TEXT = 3000
# What members said, per question: short enough that the whole form is one Teams card.
HINT = 1600


def _tally(qset: QuestionSet, qid: str, answers: list[SubmittedAnswer], lang: str = "en") -> str:
    q = qset.question(qid)
    counts = Counter(a.choice for a in answers if a.question_id == qid and a.choice)
    parts = [f"{counts[v]} {choice_label(q, v, lang)}" for v in q.choice_values if counts[v]]
    return " · ".join(parts) if parts else t("close.no_answers_yet", lang)


def close_form(
    qset: QuestionSet,
    session: ReflectionSession,
    answers: list[SubmittedAnswer],
    names: dict[int, str],
    *,
    lang: str = "en",
    people: tuple[Option, ...] = (),
    attended: tuple[str, ...] = (),
    earlier: tuple[str, ...] = (),
) -> Form:
    """The facilitator's form. ``people`` are the invited members (user id, name),
    ``attended`` those ticked as present to begin with (everyone who submitted) and
    ``earlier`` the last session's actions with their status, shown first.
    ``answers`` are the submitted ones only: nobody's draft reaches the facilitator."""
    fields: list[FormField] = [
        FormField(
            "child_life",
            t("close.child_life_label", lang),
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
            hint=t("close.child_life_hint", lang),
        )
    ]
    split = split_questions(qset, answers)
    for number, q in enumerate(qset.questions, start=1):
        if q.audience == "group":
            fields += _question_fields(qset, q, number, answers, names, q.id in split, lang)
    if people:
        fields.append(
            FormField(
                "attended",
                t("close.attended", lang),
                kind="users",
                optional=True,
                options=people,
                initial=attended,
                hint=t("close.attended_hint", lang),
            )
        )
    fields += _sharing_and_action_fields(qset, lang)
    fields += _themes_and_escalation_fields(lang)
    return Form(
        form_id=CLOSE_FORM,
        title=t("close.title", lang),
        fields=tuple(fields),
        state=str(session.id),
        submit=t("close.title", lang),
        intro=(t("close.intro", lang), *_earlier_actions(earlier, lang)),
    )


def _question_fields(
    qset: QuestionSet,
    q: Question,
    number: int,
    answers: list[SubmittedAnswer],
    names: dict[int, str],
    split: bool,
    lang: str,
) -> list[FormField]:
    """One question's position (or group summary), notes and key-point box, with what was said."""
    said = [
        f"{names.get(a.member_id, t('close.a_member', lang))}: {a.comment}"
        for a in answers
        if a.question_id == q.id and a.comment
    ]
    hint = t("close.what_people_said", lang, said=" | ".join(said))[:HINT] if said else ""
    key = FormField(
        f"key_{q.id}", t("close.key_point_label", lang, n=number), kind="check", optional=True
    )
    if not q.choice_values:
        notes = FormField(
            f"notes_{q.id}",
            t("close.agreed_notes_label", lang, n=number, headline=q.headline)[:1900],
            kind="multiline",
            optional=True,
            hint=hint,
            max_length=LONG_TEXT,
        )
        return [notes, key]
    options = tuple(Option(v, choice_label(q, v, lang)) for v in q.choice_values)
    tally = _tally(qset, q.id, answers, lang)
    position = FormField(
        f"pos_{q.id}",
        t("close.position_label", lang, n=number, headline=q.headline, tally=tally)[:1900],
        kind="select",
        options=(
            *options,
            Option(NOT_AGREED, t("close.not_agreed", lang)),
            Option(NO_POSITION, t("close.no_position", lang)),
        ),
        optional=True,
        hint=hint,
    )
    notes_label = "close.notes_or_reason_label" if split else "close.notes_label"
    notes = FormField(
        f"notes_{q.id}",
        t(notes_label, lang, n=number),
        kind="multiline",
        optional=True,
        max_length=LONG_TEXT,
    )
    return [position, notes, key]


def _sharing_and_action_fields(qset: QuestionSet, lang: str) -> list[FormField]:
    """How the family will hear, then the action rows (what, who, by when)."""
    fields = [
        FormField(
            "family_sharing",
            t("close.family_sharing_label", lang),
            kind="multiline",
            optional=qset.kind != "supervision",
            max_length=LONG_TEXT,
            hint=t("close.family_hint", lang),
        )
    ]
    for i in range(1, ACTION_ROWS + 1):
        fields += [
            FormField(
                f"action_{i}_text",
                t("close.action_what_n", lang, n=i),
                optional=True,
                max_length=500,
            ),
            FormField(
                f"action_{i}_owner", t("close.action_who_n", lang, n=i), kind="user", optional=True
            ),
            FormField(
                f"action_{i}_due", t("close.action_when_n", lang, n=i), kind="date", optional=True
            ),
        ]
    return fields


def _themes_and_escalation_fields(lang: str) -> list[FormField]:
    themes = load_themes()
    return [
        FormField(
            "themes",
            t("close.themes", lang),
            kind="multi_select",
            optional=True,
            options=tuple(Option(k, v) for k, v in themes.items()),
        ),
        FormField(
            "escalation",
            t("close.escalation_label", lang),
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
            hint=t("close.escalation_hint", lang),
        ),
        FormField(
            "takeaways",
            t("close.takeaways", lang),
            kind="multiline",
            optional=True,
            max_length=LONG_TEXT,
        ),
    ]


def _earlier_actions(lines: tuple[str, ...], lang: str) -> tuple[str, ...]:
    if not lines:
        return ()
    return ("\n\n" + t("actions.previous", lang), *(f"\n• {line}" for line in lines))
