"""The largest record the delivery tests use: 20 members, every question, 3,000-character answers.

The group is set up and the session opened over real HTTP by the platform tests; answering 280
questions one click at a time would only slow them down, so the answers are stored here as the
dialogue would store them (same table, same shapes), and the close goes through the real form.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from handlers.base.core import Core
from storage.models import Answer, Member, Participation, ReflectionSession, SessionStatus

MEMBERS = 20
LONG = 3000
AGENCIES = ("Social care", "Health visiting", "Education", "Police", "Housing")


def long_text(seed: str, limit: int = LONG) -> str:
    """Sentences of ordinary length up to ``limit`` characters: what a thorough answer is."""
    sentences: list[str] = []
    n = 0
    while True:
        n += 1
        sentence = (
            f"{seed} sentence {n} says how the week went at home, at school & with the family "
            "<when> the plan was tested."
        )
        if len(" ".join([*sentences, sentence])) > limit:
            return " ".join(sentences)
        sentences.append(sentence)


async def answer_everything(core: Core, *, choice_for: dict[str, str] | None = None) -> int:
    """Every invited member answers every question of the open session at full length."""
    async with core.db.write() as s:
        session = (
            await s.exec(
                select(ReflectionSession).where(ReflectionSession.status == SessionStatus.OPEN)
            )
        ).one()
        qset = core.sets.get(session.set_id)
        invited = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
                .where(Participation.session_id == session.id)
            )
        )
        for number, (_part, member) in enumerate(invited):
            for q in qset.questions:
                values = q.choice_values
                choice = values[number % len(values)] if values else None
                s.add(
                    Answer(
                        session_id=session.id or 0,
                        member_id=member.id or 0,
                        question_id=q.id,
                        choice=choice,
                        comment=long_text(f"{member.display_name} on {q.id}"),
                    )
                )
        return session.id or 0


def close_values(core: Core, set_id: str, owner: str) -> dict[str, object]:
    """The close form filled to every field's limit (notes, family sharing, three actions)."""
    qset = core.sets.get(set_id)
    values: dict[str, object] = {}
    for q in qset.questions:
        if q.audience != "group":
            continue
        if q.choice_values:
            values[f"pos_{q.id}"] = q.choice_values[0]
        values[f"notes_{q.id}"] = long_text(f"Agreed on {q.id}")
        values[f"key_{q.id}"] = True
    values["family_sharing"] = long_text("Family")
    for i in (1, 2, 3):
        values[f"action_{i}_text"] = long_text(f"Action {i}", 500)
        values[f"action_{i}_owner"] = owner
        values[f"action_{i}_due"] = "2026-03-20"
    values["takeaways"] = long_text("Takeaway")
    values["escalation"] = long_text("Escalation")
    return values


def setup_text(facilitator: str, mention: Callable[[int], str]) -> str:
    """``setup`` for a group of 20; ``mention`` writes member ``i`` as the platform does."""
    members = ";".join(f"{mention(i)}:{AGENCIES[i % 5]}" for i in range(MEMBERS))
    return f"setup child=AB-1234 registered=2025-12-01 facilitator={facilitator} members={members}"
