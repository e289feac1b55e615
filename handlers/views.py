"""The neutral messages of a reflection: invitation, one question, review, thanks, progress.

Wording of the questions comes from the question set; the words around them live here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Heading,
    Mention,
    Message,
    Paragraph,
    Span,
    Strong,
)
from prompts.schema import Question, QuestionSet

SECONDS_PER_QUESTION = 45
CHOICE_LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}


def choice_label(question: Question, value: str | None) -> str:
    if value is None:
        return ""
    if question.kind == "yes_no":
        return CHOICE_LABELS.get(value, value)
    if question.kind == "choice":
        for c in question.choices:
            if c.value == value:
                return c.label
    return value


def minutes_left(remaining_questions: int) -> int:
    return max(1, math.ceil(remaining_questions * SECONDS_PER_QUESTION / 60))


def local_deadline(when: datetime | None, tz: str) -> str:
    """'Thu 14:00' in the organisation's time zone."""
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


@dataclass(frozen=True)
class AnswerState:
    choice: str | None
    comment: str | None
    skipped: bool


def invitation(
    qset: QuestionSet, child_ref: str, deadline: str, participation_id: int, facilitator_id: str
) -> Message:
    pid = str(participation_id)
    blocks: list[Block] = [
        Heading(f"{qset.title} for {child_ref}"),
        Paragraph(
            (
                f"A {qset.title.lower()} for ",
                Strong(child_ref),
                f" is open until {deadline}. " if deadline else " is open. ",
                f"It takes about {qset.minutes} minutes.",
            )
        ),
        Paragraph((qset.purpose,)),
    ]
    if qset.ground_rules:
        blocks.append(Context(tuple("• " + rule + "\n" for rule in qset.ground_rules)))
    blocks.append(Context(("Facilitator: ", Mention(facilitator_id))))
    blocks.append(
        Buttons(
            (
                Button("Start", "dlg.start", pid, style="primary", spoken="Start the questions"),
                Button("Not now", "dlg.later", pid, spoken="Not now, remind me later"),
            )
        )
    )
    text = f"{qset.title} for {child_ref} is open. It takes about {qset.minutes} minutes."
    return Message(text=text, blocks=tuple(blocks))


def question_message(
    qset: QuestionSet,
    questions: tuple[Question, ...],
    index: int,
    participation_id: int,
    current: AnswerState | None,
    answered_count: int,
) -> Message:
    q = questions[index]
    total = len(questions)
    ref = f"{participation_id}:{q.id}"
    blocks: list[Block] = []
    if index == 0 and qset.opening_prompt:
        blocks.append(Context((qset.opening_prompt,)))
    blocks.append(Paragraph((Strong(q.headline),)))
    if q.guidance:
        blocks.append(Context(tuple(line + "\n" for line in q.guidance)))
    if current is not None and (current.choice or current.comment or current.skipped):
        said: list[Span] = []
        if current.choice:
            said += ["Your answer: ", Strong(choice_label(q, current.choice))]
        if current.comment:
            said += ["\n" if said else "", "Your words: ", current.comment]
        if current.skipped and not said:
            said = ["You skipped this question."]
        blocks.append(Context(tuple(said)))
    buttons: list[Button] = []
    for value in q.choice_values:
        label = choice_label(q, value)
        chosen = current is not None and current.choice == value
        buttons.append(
            Button(
                label,
                "dlg.answer",
                f"{ref}:{value}",
                style="primary" if chosen else None,
                spoken=f"Answer {label}" + (" (your current answer)" if chosen else ""),
            )
        )
    has_words = current is not None and bool(current.comment)
    if q.kind == "text":
        label = "Change your answer" if has_words else "Write your answer"
        buttons.append(Button(label, "dlg.text", ref, style="primary" if not has_words else None))
    elif q.comment:
        label = "Change comment" if has_words else "Add a comment"
        buttons.append(Button(label, "dlg.comment", ref))
    blocks.append(Buttons(tuple(buttons)))
    nav: list[Button] = []
    if index > 0:
        nav.append(Button("Back", "dlg.back", str(participation_id), spoken="Previous question"))
    nav.append(Button("Skip", "dlg.skip", ref, spoken="Skip this question"))
    if current is not None and (current.choice or current.comment) and index < total - 1:
        nav.append(Button("Next", "dlg.next", ref, spoken="Next question"))
    if answered_count:
        nav.append(Button("Review answers", "dlg.review", str(participation_id)))
    blocks.append(Buttons(tuple(nav)))
    remaining = total - index
    blocks.append(
        Context(
            (f"Question {index + 1} of {total} · about {minutes_left(remaining)} minutes left",)
        )
    )
    text = f"Question {index + 1} of {total}: {q.headline}"
    return Message(text=text, blocks=tuple(blocks))


def review_message(
    questions: tuple[Question, ...],
    participation_id: int,
    answers: dict[str, AnswerState],
    submitted: bool,
) -> Message:
    blocks: list[Block] = [
        Heading("Check your answers"),
        Context(("Change anything you like. Nothing is shared until you submit.",))
        if not submitted
        else Context(("You can change answers until the facilitator closes the session.",)),
    ]
    for number, q in enumerate(questions, start=1):
        a = answers.get(q.id)
        said: list[Span] = [Strong(f"{number}. {q.headline}"), "\n"]
        if a is None or (not a.choice and not a.comment):
            said.append("Skipped" if a is not None and a.skipped else "Not answered yet")
        else:
            if a.choice:
                said.append(choice_label(q, a.choice))
            if a.comment:
                said += [" · " if a.choice else "", a.comment]
        blocks.append(Paragraph(tuple(said)))
        blocks.append(
            Buttons(
                (
                    Button(
                        "Change",
                        "dlg.change",
                        f"{participation_id}:{q.id}",
                        spoken=f"Change your answer to question {number}",
                    ),
                )
            )
        )
    blocks.append(Divider())
    if not submitted:
        blocks.append(
            Buttons(
                (
                    Button(
                        "Submit",
                        "dlg.submit",
                        str(participation_id),
                        style="primary",
                        spoken="Submit my answers",
                    ),
                    Button(
                        "Back",
                        "dlg.back",
                        str(participation_id),
                        spoken="Back to the last question",
                    ),
                )
            )
        )
    return Message(text="Check your answers, then submit.", blocks=tuple(blocks))


def thanks_message(participation_id: int, deadline: str) -> Message:
    until = (
        f" until the facilitator closes the session ({deadline})"
        if deadline
        else (" until the facilitator closes the session")
    )
    return Message(
        text="Thank you. Your reflection is saved.",
        blocks=(
            Paragraph((Strong("Thank you. Your reflection is saved."),)),
            Paragraph(
                (
                    "The facilitator will bring the group's answers together into the record, "
                    "and you will get a copy. ",
                    f"You can change your answers{until}.",
                )
            ),
            Buttons((Button("Review or change my answers", "dlg.review", str(participation_id)),)),
        ),
    )


def deferred_message(participation_id: int) -> Message:
    return Message(
        text="No problem. I'll remind you later.",
        blocks=(
            Paragraph(
                ("No problem. I'll remind you later. You can start whenever you are ready.",)
            ),
            Buttons((Button("Start now", "dlg.start", str(participation_id), style="primary"),)),
        ),
    )


def closed_message(child_ref: str, cancelled: bool = False) -> Message:
    text = (
        f"The session for {child_ref} was cancelled, so no more answers are needed."
        if cancelled
        else f"The session for {child_ref} has closed. You will get a copy of the record."
    )
    return Message(text=text, blocks=(Paragraph((text,)),))


@dataclass(frozen=True)
class ProgressRow:
    user_id: str
    name: str
    done: bool


def progress_message(
    title: str,
    child_ref: str,
    session_id: int,
    rows: list[ProgressRow],
    deadline: str,
    status: str,
) -> Message:
    done = sum(1 for r in rows if r.done)
    total = len(rows)
    head = f"{title} · {child_ref}"
    blocks: list[Block] = [Heading(head)]
    if status == "open":
        summary = f"{done} of {total} have reflected."
        if deadline:
            summary += f" Open until {deadline}."
    elif status == "closed":
        summary = f"Closed. {done} of {total} reflected. The record is in the thread."
    else:
        summary = "This session was cancelled."
    blocks.append(Paragraph((summary,)))
    lines: list[Span] = []
    for r in rows:
        lines += ["✓ " if r.done else "○ ", Mention(r.user_id, r.name), "\n"]
    if lines:
        blocks.append(Context(tuple(lines)))
    if status == "open":
        sid = str(session_id)
        blocks.append(
            Buttons(
                (
                    Button("Remind those outstanding", "session.remind", sid),
                    Button("Close and record", "session.close", sid, style="primary"),
                )
            )
        )
    return Message(text=f"{head}: {summary}", blocks=tuple(blocks))
