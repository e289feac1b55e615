"""Only submitted answers leave a member, and a session keeps its questions, over Teams.

Two members submit; two start, type private words and stop (one waiting to type more:
``awaiting_text``); the set gains a question at the top meanwhile. The facilitator is asked
privately to confirm before the close form; the record in the channel thread and every
personal copy carry neither the unsubmitted words nor the new question.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from handlers.base.core import Core
from handlers.reflection import dialogue
from prompts.schema import Question
from storage.models import Answer, Member, Participation, ReflectionSession, SessionStatus
from tests.bot.platforms.teams.teams_harness import (
    CHANNEL,
    TEAM,
    Harness,
    Person,
    actions,
    answer_everything,
    fill_form,
    latest_form,
    personal_of,
    press,
    running,
    text_of,
)
from tests.fakes.bot_connector import Call

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
HV = Person("Hana Health Visitor", "aad-hv")
LEE = Person("Lee Learning Mentor", "aad-lee")
LOU = Person("Lou Police Officer", "aad-lou")
PRIVATE = {LEE.aad: "UNSUBMITTED-WORDS-LEE", LOU.aad: "UNSUBMITTED-WORDS-LOU"}
INSERTED = "INSERTED-AT-THE-TOP: a question added while the session was open"


def insert_a_question_at_the_top(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, qset in list(core.sets.sets.items()):
        if key[0] == "appendix1":
            new = Question(id="inserted_first", headline=INSERTED, kind="yes_no")
            monkeypatch.setitem(
                core.sets.sets, key, qset.model_copy(update={"questions": (new, *qset.questions)})
            )


def card_with(h: Harness, who: Person, verb: str) -> tuple[Call, dict]:
    for card in reversed(h.connector.screen(personal_of(h, who))):
        found = [a for a in actions(card) if a.get("data", {}).get("verb") == verb]
        if found:
            return card, found[0]["data"]
    raise AssertionError(f"{who.name} has no {verb} button")


async def start_and_stop(h: Harness, who: Person, *, then_comment: bool) -> None:
    """Start, comment on question 1 (private words), answer it; maybe begin another comment."""
    card, data = card_with(h, who, "dlg.start")
    await press(h, who, card, data)
    card, data = card_with(h, who, "dlg.comment")
    await press(h, who, card, data)
    form = latest_form(h, personal_of(h, who), dialogue.TEXT_FORM)
    await fill_form(h, who, form, {"text": PRIVATE[who.aad]})
    card, data = card_with(h, who, "dlg.answer")
    await press(h, who, card, data)
    if then_comment:
        card, data = card_with(h, who, "dlg.comment")
        await press(h, who, card, data)  # … and never sends the form


async def test_unsubmitted_answers_and_a_changed_set_never_reach_the_record(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(core) as h:
        fake = h.connector
        people = (RO, SAM, HV, LEE, LOU)
        fake.members[TEAM] = [p.account() for p in people]
        assert (await h.post(h.install_in_team(RO)))[0] == 200
        assert (await h.post(h.in_channel(RO, "reflect setup")))[0] == 200
        ro_chat = personal_of(h, RO)
        values = {
            "child_ref": "AB-1234",
            "registered_on": "2026-01-05",
            "pre_birth": "false",
            "facilitator": RO.aad,
            "anchor": "registration",
        }
        for i, (who, agency) in enumerate(
            ((SAM, "Social care"), (HV, "Health"), (LEE, "Education"), (LOU, "Police")), 1
        ):
            values |= {f"member_{i}": who.aad, f"agency_{i}": agency}
        await fill_form(h, RO, latest_form(h, ro_chat, "group.setup"), values)
        fake.clear()
        assert (await h.post(h.in_channel(RO, "reflect")))[0] == 200
        [progress] = [c for c in fake.sends() if c.conversation == CHANNEL]
        insert_a_question_at_the_top(core, monkeypatch)

        await answer_everything(h, SAM)
        await answer_everything(h, HV)
        await start_and_stop(h, LEE, then_comment=False)
        await start_and_stop(h, LOU, then_comment=True)
        async with core.db.read() as s:
            rows = await s.exec(
                select(Participation, Member).join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
            )
            states = {m.user_id: p.state for p, m in rows}
            asked = {a.question_id for a in await s.exec(select(Answer))}
        assert states[LEE.aad] == "answering" and states[LOU.aad] == "awaiting_text"
        assert "inserted_first" not in asked

        # The progress card names who started, never what they wrote.
        latest_progress = [c for c in fake.screen(CHANNEL) if c.result_id == progress.result_id]
        shown = text_of(latest_progress[-1])
        assert shown.count("started, not yet submitted") == 2
        assert PRIVATE[LEE.aad] not in shown

        # Close: a private question first; "Close now" brings the form.
        fake.clear()
        [close] = [a for a in actions(progress) if a["data"]["verb"] == "session.close"]
        await press(h, RO, progress, close["data"])
        [confirm] = [c for c in fake.delivered() if "did not submit" in text_of(c)]
        assert confirm.conversation == ro_chat, "asked in the facilitator's personal chat"
        assert not any(c.conversation == CHANNEL for c in fake.delivered())
        verbs = {a["data"]["verb"]: a for a in actions(confirm) if "verb" in a.get("data", {})}
        assert set(verbs) == {"session.remind", "session.close_now"}
        await press(h, RO, confirm, verbs["session.close_now"]["data"])
        form = latest_form(h, ro_chat, "session.close")
        form_text = text_of(form)
        assert PRIVATE[LEE.aad] not in form_text and PRIVATE[LOU.aad] not in form_text
        assert INSERTED not in form_text
        await fill_form(
            h,
            RO,
            form,
            {"family_sharing": "At the next home visit.", "child_life": "Settled at home."},
        )
        async with core.db.read() as s:
            session = (await s.exec(select(ReflectionSession))).one()
            drafts = (
                await s.exec(
                    select(Answer).join(Member).where(Member.user_id.in_([LEE.aad, LOU.aad]))  # type: ignore[attr-defined]
                )
            ).all()
        assert session.status == SessionStatus.CLOSED
        assert drafts == [], "unsubmitted drafts are deleted at close"

        thread = [c for c in fake.replies() if c.conversation == CHANNEL]
        assert thread and any("Settled at home." in text_of(c) for c in thread)
        for who in people:
            copies = [c for c in fake.sends() if c.conversation == personal_of(h, who)]
            if who is not RO:
                assert any("AB-1234" in text_of(c) for c in copies), f"{who.name} gets a copy"
        for author in (LEE, LOU):
            elsewhere = [c for c in fake.delivered() if c.conversation != personal_of(h, author)]
            blob = json.dumps([c.body for c in elsewhere], ensure_ascii=False)
            assert PRIVATE[author.aad] not in blob, f"{author.name}'s draft left their chat"
        everything = json.dumps([c.body for c in fake.delivered()], ensure_ascii=False)
        assert INSERTED not in everything
        assert fake.violations == []
