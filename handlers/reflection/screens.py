"""The neutral messages of a reflection: invitation, one question, review, thanks, progress.

Wording of the questions comes from the question set; the words around them come from the UI
string catalogue (``prompts/strings``) in the reader's language. Every message has a plain
``text`` fallback, and a button whose label repeats in a message says which one it is in
``spoken``.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.base.messages import (
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
from handlers.base.wording import choice_label, minutes_left, t_spans
from prompts.schema import Question, QuestionSet
from prompts.strings import t


def role_label(role: str, lang: str = "en") -> str:
    """A session role's name (presenter, enabler, observer); unknown roles read as written."""
    try:
        return t(f"roles.{role}", lang)
    except KeyError:
        return role.replace("_", " ")


@dataclass(frozen=True)
class AnswerState:
    choice: str | None
    comment: str | None
    skipped: bool


def invitation(
    qset: QuestionSet,
    child_ref: str,
    deadline: str,
    participation_id: int,
    facilitator_id: str,
    *,
    lang: str = "en",
    role: str | None = None,
) -> Message:
    pid = str(participation_id)
    title = qset.title
    blocks: list[Block] = [
        Heading(t("dialogue.invite_heading", lang, title=title, child_ref=child_ref)),
        Paragraph(
            (
                *t_spans(
                    "dialogue.invite_open_until" if deadline else "dialogue.invite_open",
                    lang,
                    title=title.lower(),
                    child_ref=Strong(child_ref),
                    closes_at=deadline,
                ),
                " ",
                t("dialogue.invite_minutes", lang, minutes=qset.minutes),
            )
        ),
        Paragraph((qset.purpose,)),
    ]
    if role:
        blocks.append(
            Paragraph(t_spans("dialogue.role_prompt", lang, role=Strong(role_label(role, lang))))
        )
    if qset.ground_rules:
        blocks.append(Context(tuple("• " + rule + "\n" for rule in qset.ground_rules)))
    blocks.append(
        Context(t_spans("dialogue.facilitator", lang, facilitator=Mention(facilitator_id)))
    )
    blocks.append(
        Buttons(
            (
                Button(
                    t("dialogue.start", lang),
                    "dlg.start",
                    pid,
                    style="primary",
                    spoken=t("dialogue.start_spoken", lang),
                ),
                Button(
                    t("dialogue.not_now", lang),
                    "dlg.later",
                    pid,
                    spoken=t("dialogue.not_now_spoken", lang),
                ),
            )
        )
    )
    text = t("dialogue.invite_text", lang, title=title, child_ref=child_ref, minutes=qset.minutes)
    return Message(text=text, blocks=tuple(blocks))


def question_message(
    qset: QuestionSet,
    questions: tuple[Question, ...],
    index: int,
    participation_id: int,
    current: AnswerState | None,
    answered_count: int,
    *,
    lang: str = "en",
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
    if q.kind == "scale":
        blocks.append(Context((t("dialogue.scale_hint", lang, min=q.scale_min, max=q.scale_max),)))
    if current is not None and (current.choice or current.comment or current.skipped):
        blocks.append(Context(tuple(_what_you_said(q, current, lang))))
    blocks.append(Buttons(tuple(_answer_buttons(q, ref, current, lang))))
    nav = _nav_buttons(index, total, participation_id, ref, current, answered_count, lang)
    blocks.append(Buttons(tuple(nav)))
    remaining = total - index
    footer = t(
        "dialogue.question_footer",
        lang,
        n=index + 1,
        total=total,
        minutes=minutes_left(qset, remaining),
    )
    blocks.append(Context((footer,)))
    text = t("dialogue.question_text", lang, n=index + 1, total=total, headline=q.headline)
    return Message(text=text, blocks=tuple(blocks))


def _what_you_said(q: Question, current: AnswerState, lang: str) -> list[Span]:
    """The person's answer so far, their words, or that they skipped."""
    said: list[Span] = []
    if current.choice:
        said += t_spans(
            "dialogue.your_answer", lang, answer=Strong(choice_label(q, current.choice, lang))
        )
    if current.comment:
        said += [
            "\n" if said else "",
            *t_spans("dialogue.your_words", lang, words=current.comment),
        ]
    if current.skipped and not said:
        said = [t("dialogue.you_skipped", lang)]
    return said


def _answer_buttons(q: Question, ref: str, current: AnswerState | None, lang: str) -> list[Button]:
    """One button per choice (the current one marked), then write or comment."""
    buttons: list[Button] = []
    for value in q.choice_values:
        label = choice_label(q, value, lang)
        chosen = current is not None and current.choice == value
        spoken_key = "dialogue.answer_spoken_current" if chosen else "dialogue.answer_spoken"
        buttons.append(
            Button(
                label,
                "dlg.answer",
                f"{ref}:{value}",
                style="primary" if chosen else None,
                spoken=t(spoken_key, lang, label=label),
            )
        )
    has_words = current is not None and bool(current.comment)
    if q.kind == "text":
        label = t("dialogue.change_answer" if has_words else "dialogue.write_answer", lang)
        buttons.append(Button(label, "dlg.text", ref, style="primary" if not has_words else None))
    elif q.comment:
        label = t("dialogue.change_comment" if has_words else "dialogue.add_comment", lang)
        buttons.append(Button(label, "dlg.comment", ref))
    return buttons


def _nav_buttons(
    index: int,
    total: int,
    participation_id: int,
    ref: str,
    current: AnswerState | None,
    answered_count: int,
    lang: str,
) -> list[Button]:
    """Back, Skip, Next (once answered) and Review (once anything is answered)."""
    nav: list[Button] = []
    pid = str(participation_id)
    if index > 0:
        nav.append(
            Button(
                t("dialogue.back", lang), "dlg.back", pid, spoken=t("dialogue.back_spoken", lang)
            )
        )
    nav.append(
        Button(t("dialogue.skip", lang), "dlg.skip", ref, spoken=t("dialogue.skip_spoken", lang))
    )
    if current is not None and (current.choice or current.comment) and index < total - 1:
        nav.append(
            Button(
                t("dialogue.next", lang), "dlg.next", ref, spoken=t("dialogue.next_spoken", lang)
            )
        )
    if answered_count:
        nav.append(Button(t("dialogue.review_answers", lang), "dlg.review", pid))
    return nav


def review_message(
    questions: tuple[Question, ...],
    participation_id: int,
    answers: dict[str, AnswerState],
    submitted: bool,
    *,
    lang: str = "en",
) -> Message:
    blocks: list[Block] = [
        Heading(t("dialogue.check_title", lang)),
        Context(
            (t("dialogue.check_intro_submitted" if submitted else "dialogue.check_intro", lang),)
        ),
    ]
    for number, q in enumerate(questions, start=1):
        a = answers.get(q.id)
        said: list[Span] = [Strong(f"{number}. {q.headline}"), "\n"]
        if a is None or (not a.choice and not a.comment):
            skipped = a is not None and a.skipped
            said.append(t("dialogue.review_skipped" if skipped else "dialogue.not_answered", lang))
        else:
            if a.choice:
                said.append(choice_label(q, a.choice, lang))
            if a.comment:
                said += [" · " if a.choice else "", a.comment]
        blocks.append(Paragraph(tuple(said)))
        blocks.append(
            Buttons(
                (
                    Button(
                        t("dialogue.change", lang),
                        "dlg.change",
                        f"{participation_id}:{q.id}",
                        spoken=t("dialogue.change_spoken", lang, n=number),
                    ),
                )
            )
        )
    blocks.append(Divider())
    blocks.append(Buttons(_review_actions(str(participation_id), submitted, lang)))
    return Message(text=t("dialogue.check_text", lang), blocks=tuple(blocks))


def _review_actions(pid: str, submitted: bool, lang: str) -> tuple[Button, ...]:
    """Submit (or Back) before submitting; after, changes are saved as they are made and "Done"
    goes back to the thanks."""
    if submitted:
        done = Button(
            t("dialogue.done", lang),
            "dlg.submit",
            pid,
            style="primary",
            spoken=t("dialogue.done_spoken", lang),
        )
        return (done,)
    return (
        Button(
            t("dialogue.submit", lang),
            "dlg.submit",
            pid,
            style="primary",
            spoken=t("dialogue.submit_spoken", lang),
        ),
        Button(
            t("dialogue.back", lang),
            "dlg.back",
            pid,
            spoken=t("dialogue.back_to_last", lang),
        ),
    )


def thanks_message(participation_id: int, deadline: str, *, lang: str = "en") -> Message:
    saved = t("dialogue.saved", lang)
    until = (
        t("dialogue.change_until_deadline", lang, closes_at=deadline)
        if deadline
        else t("dialogue.change_until", lang)
    )
    return Message(
        text=saved,
        blocks=(
            Paragraph((Strong(saved),)),
            Paragraph((t("dialogue.saved_next", lang), " ", until)),
            Buttons(
                (Button(t("dialogue.review_or_change", lang), "dlg.review", str(participation_id)),)
            ),
        ),
    )


def deferred_message(participation_id: int, *, lang: str = "en") -> Message:
    return Message(
        text=t("dialogue.deferred_text", lang),
        blocks=(
            Paragraph((t("dialogue.deferred", lang),)),
            Buttons(
                (
                    Button(
                        t("dialogue.start_now", lang),
                        "dlg.start",
                        str(participation_id),
                        style="primary",
                    ),
                )
            ),
        ),
    )


def closed_message(child_ref: str, cancelled: bool = False, *, lang: str = "en") -> Message:
    key = "dialogue.session_cancelled" if cancelled else "dialogue.session_closed"
    text = t(key, lang, child_ref=child_ref)
    return Message(text=text, blocks=(Paragraph((text,)),))


@dataclass(frozen=True)
class ProgressRow:
    user_id: str
    name: str
    done: bool
    note: str = ""  # "away until …"


def progress_message(
    title: str,
    child_ref: str,
    session_id: int,
    rows: list[ProgressRow],
    deadline: str,
    status: str,
    *,
    lang: str = "en",
) -> Message:
    done = sum(1 for r in rows if r.done)
    total = len(rows)
    head = t("progress.heading", lang, title=title, child_ref=child_ref)
    blocks: list[Block] = [Heading(head)]
    if status == "open":
        summary = t("progress.summary_open", lang, done=done, total=total)
        if deadline:
            summary += " " + t("progress.open_until_sentence", lang, closes_at=deadline)
    elif status == "closed":
        summary = t("progress.summary_closed", lang, done=done, total=total)
    else:
        summary = t("progress.summary_cancelled", lang)
    blocks.append(Paragraph((summary,)))
    lines: list[Span] = []
    for r in rows:
        lines += ["✓ " if r.done else "○ ", Mention(r.user_id, r.name)]
        lines += [f" · {r.note}\n" if r.note else "\n"]
    if lines:
        blocks.append(Context(tuple(lines)))
    if status == "open":
        sid = str(session_id)
        blocks.append(
            Buttons(
                (
                    Button(t("progress.remind", lang), "session.remind", sid),
                    Button(t("progress.close", lang), "session.close", sid, style="primary"),
                )
            )
        )
    return Message(text=f"{head}: {summary}", blocks=tuple(blocks))
