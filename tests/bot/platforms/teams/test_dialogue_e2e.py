"""The whole reflection in Teams, over real HTTP, against a fake Bot Connector.

install -> ``reflect setup`` (form in a private chat) -> ``reflect`` in the channel -> two
members answer every question in personal chat (buttons and forms, with hostile text) -> each
card is replaced in place -> the facilitator closes -> the record lands in the channel thread
and a copy reaches each member. Then: a stale card after close, and another tenant's user.
"""

from __future__ import annotations

from sqlmodel import select

from handlers.base.core import Core
from handlers.reflection import dialogue
from storage.models import Answer, Member, Participation, ReflectionSession, SessionStatus
from tests.bot.platforms.teams.teams_harness import (
    CHANNEL,
    TEAM,
    TENANT_B,
    Harness,
    Person,
    actions,
    fill_form,
    latest_form,
    personal_of,
    press,
    running,
    text_of,
)

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
HV = Person("Hana Health Visitor", "aad-hv")
EVE = Person("Eve Elsewhere", "aad-eve", tenant=TENANT_B)
HOSTILE = (
    "<at>Robin Reviewing Officer</at> <at>Everyone</at> **bold** _it_ [click](https://evil.ex) "
    "{{DATE(2017-02-14T06:00:00Z, SHORT)}} <script>alert(1)</script> & co — مرحبا 👋🏽 "
    # and the Slack corpus: harmless here too
    "<!channel> <!here> @everyone <https://evil.example|click here> {{ 7*7 }} {% raw %} `code`"
)
ANSWER_ORDER = ("dlg.start", "dlg.answer", "dlg.text", "dlg.comment", "dlg.next", "dlg.review")


async def answer_everything(h: Harness, who: Person) -> None:
    """Follow the cards like a person would: start, answer each question, review, submit."""
    conversation = personal_of(h, who)
    for _step in range(80):
        screen = h.connector.screen(conversation)
        with_actions = [c for c in screen if any("verb" in a["data"] for a in actions(c))]
        assert with_actions, "the member has no card to act on"
        card = with_actions[-1]
        verbs = {a["data"].get("verb"): a for a in actions(card) if "verb" in a.get("data", {})}
        if "dlg.submit" in verbs:
            await press(h, who, card, verbs["dlg.submit"]["data"])
            return
        for verb in ANSWER_ORDER:
            if verb in verbs:
                break
        else:
            raise AssertionError(f"no way forward on: {sorted(verbs)}")
        if verb == "dlg.answer":
            choice = next(a for a in actions(card) if a["data"].get("verb") == "dlg.answer")
            await press(h, who, card, choice["data"])
        elif verb in ("dlg.text", "dlg.comment"):
            await press(h, who, card, verbs[verb]["data"])
            form = latest_form(h, conversation, dialogue.TEXT_FORM)
            await fill_form(h, who, form, {"text": f"{who.name}: {HOSTILE}"})
        else:
            await press(h, who, card, verbs[verb]["data"])
    raise AssertionError("the dialogue did not end")


async def test_a_whole_reflection_in_teams(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        fake.members[TEAM] = [p.account() for p in (RO, SAM, HV)]
        assert (await h.post(h.install_in_team(RO)))[0] == 200

        # Setup: the form arrives privately; the channel is told where it went.
        assert (await h.post(h.in_channel(RO, "reflect setup")))[0] == 200
        ro_chat = personal_of(h, RO)
        form = latest_form(h, ro_chat, "group.setup")
        await fill_form(
            h,
            RO,
            form,
            {
                "child_ref": "AB-1234",
                "registered_on": "2026-01-05",
                "pre_birth": "false",
                "facilitator": RO.aad,
                "anchor": "registration",
                "member_1": SAM.aad,
                "agency_1": "Children's social care",
                "member_2": HV.aad,
                "agency_2": "Health visiting",
            },
        )
        assert any("AB-1234" in text_of(c) for c in fake.to(CHANNEL)), "setup confirmed in channel"

        # Start: progress card in the channel, invitations in personal chat.
        fake.clear()
        assert (await h.post(h.in_channel(RO, "reflect")))[0] == 200
        [progress] = [c for c in fake.sends() if c.conversation == CHANNEL]
        assert {a["data"]["verb"] for a in actions(progress)} >= {"session.remind", "session.close"}
        for member in (SAM, HV):
            invitation = fake.screen(personal_of(h, member))[-1]
            assert "dlg.start" in {a["data"].get("verb") for a in actions(invitation)}

        # Both members answer everything; each question card replaces the last one.
        for member in (SAM, HV):
            await answer_everything(h, member)
            chat = personal_of(h, member)
            sent_here = [c for c in fake.sends() if c.conversation == chat]
            updated_here = [c for c in fake.updates() if c.conversation == chat]
            assert len(updated_here) >= 10, "question cards are replaced in place"
            assert len(sent_here) < len(updated_here)
        progress_now = fake.screen(CHANNEL)
        assert any(c.result_id == progress.result_id and c.method == "PUT" for c in progress_now)

        async with core.db.read() as s:
            answers = (await s.exec(select(Answer))).all()
        assert len({a.member_id for a in answers}) == 2
        assert any(a.comment and "<at>Everyone</at>" in a.comment for a in answers)

        # Close: the facilitator's form comes privately; the record goes in the thread + copies.
        fake.clear()
        [close] = [a for a in actions(progress) if a["data"]["verb"] == "session.close"]
        await press(h, RO, progress, close["data"])
        close_form = latest_form(h, ro_chat, "session.close")
        await fill_form(
            h, RO, close_form, {"family_sharing": "At the next home visit.", "takeaways": HOSTILE}
        )
        thread_replies = [
            c
            for c in fake.replies()
            if c.conversation == CHANNEL and c.activity_id == progress.result_id
        ]
        assert thread_replies, "the record is posted in the progress message's thread"
        assert any("AB-1234" in text_of(c) for c in thread_replies)
        for member in (SAM, HV):
            copies = [c for c in fake.sends() if c.conversation == personal_of(h, member)]
            assert any("AB-1234" in text_of(c) for c in copies), "each member gets a copy"
        async with core.db.read() as s:
            session = (await s.exec(select(ReflectionSession))).one()
        assert session.status == SessionStatus.CLOSED

        # Nothing anyone typed became a mention, a tag or a template anywhere.
        assert fake.violations == []
        for call in fake.delivered():
            blob = "\n".join(call.texts())
            assert "<script>" not in blob and "{{DATE" not in blob and "**bold**" not in blob

        # A card pressed after close changes nothing and says so.
        fake.clear()
        sam_chat = personal_of(h, SAM)
        async with core.db.read() as s:
            sam = (await s.exec(select(Member).where(Member.user_id == SAM.aad))).one()
            part = (
                await s.exec(select(Participation).where(Participation.member_id == sam.id))
            ).one()
        choice = next(a for a in answers if a.choice and a.member_id == sam.id)
        stale = {"verb": "dlg.answer", "value": f"{part.id}:{choice.question_id}:no"}
        status, _ = await h.post(h.submit(SAM, stale, sam_chat))
        assert status == 200
        async with core.db.read() as s:
            after = {(a.member_id, a.question_id): a.choice for a in (await s.exec(select(Answer)))}
        assert after == {(a.member_id, a.question_id): a.choice for a in answers}
        assert fake.delivered(), "the person is told the session has closed"
        for call in fake.delivered():
            assert call.conversation == sam_chat
            assert "closed" in text_of(call)
            assert not any("verb" in a["data"] for a in actions(call)), "nothing left to press"

        # Another tenant's user, in a channel with the same id, sees nothing of tenant A.
        fake.clear()
        for text in ("reflect status", "reflect close", "reflect"):
            assert (await h.post(h.in_channel(EVE, text)))[0] == 200
        status, _ = await h.post(
            h.submit(EVE, {"verb": "session.close", "value": str(session.id)}, CHANNEL)
        )
        assert status == 200
        for call in fake.delivered():
            assert "AB-1234" not in text_of(call)
            assert "Sam Social Worker" not in text_of(call)
        async with core.db.read() as s:
            assert len((await s.exec(select(ReflectionSession))).all()) == 1
