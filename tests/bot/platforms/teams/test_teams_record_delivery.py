"""The closed record in Teams, over real HTTP against the fake Bot Connector: one summary card
under 80 KB (as UTF-16, how Teams counts) in the thread and each member's chat, a smaller card
when Teams refuses the size, and the Word file in each member's chat through file consent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from handlers.base.core import Core
from tests.bot.platforms.largest_record import MEMBERS, answer_everything, close_values, setup_text
from tests.bot.platforms.teams.teams_harness import (
    TEAM,
    Harness,
    Person,
    actions,
    fill_form,
    latest_form,
    personal_of,
    press,
    running,
)
from tests.fakes.bot_connector import Call

RO = Person("Robin Reviewing Officer", "aad-ro")
PEOPLE = [Person(f"Member {i}", f"aad-m{i:02d}") for i in range(MEMBERS)]
LIMIT = 80_000


def utf16_size(call: Call) -> int:
    return len(json.dumps(call.body).encode("utf-16-le"))


async def close_largest_record(
    h: Harness, core: Core, before_close: Callable[[], None] = lambda: None
) -> Call:
    """Set up 20 members, open, everyone answers at length, close; returns the progress card."""
    fake = h.connector
    fake.members[TEAM] = [p.account() for p in (RO, *PEOPLE)]
    assert (await h.post(h.install_in_team(RO)))[0] == 200
    setup = setup_text(f"@{RO.aad}", lambda i: f"@{PEOPLE[i].aad}")
    assert (await h.post(h.in_channel(RO, setup)))[0] == 200
    fake.clear()
    assert (await h.post(h.in_channel(RO, "reflect")))[0] == 200
    # Invitations go out beside the progress card, in any order: find the card by its button.
    [(progress, close)] = [
        (c, a) for c in fake.sends() for a in actions(c) if a["data"]["verb"] == "session.close"
    ][:1]
    await answer_everything(core)
    await press(h, RO, progress, close["data"])
    form = latest_form(h, personal_of(h, RO), "session.close")
    values = close_values(core, "appendix1", PEOPLE[0].aad)
    typed = {k: ("true" if v is True else v) for k, v in values.items()}
    for person in PEOPLE:
        personal_of(h, person)  # learn each chat's id before the calls are cleared
    fake.clear()
    before_close()
    await fill_form(h, RO, form, typed)
    return progress


def consent_for(h: Harness, who: Person) -> tuple[str, dict[str, Any]]:
    chat = personal_of(h, who)
    [(_call, attachment)] = h.connector.consents(chat)
    return chat, attachment


async def test_the_largest_record_is_one_card_under_the_limit_and_a_file_offer(
    core: Core,
) -> None:
    async with running(core) as h:
        fake = h.connector
        progress = await close_largest_record(h, core)

        in_thread = [c for c in fake.replies() if c.activity_id == progress.result_id]
        [summary] = [c for c in in_thread if "Key points" in str(c.body)]
        assert len(in_thread) <= 3
        assert utf16_size(summary) < LIMIT
        text = json.dumps(summary.body)
        assert "AB-1234" in text and "Key points" in text and "Word file" in text
        for person in PEOPLE:
            chat = personal_of(h, person)
            messages = [c for c in fake.sends() if c.conversation == chat]
            assert len(messages) <= 3, f"{person.name} gets at most three messages"
            cards = [c for c in messages if c.card() and "AB-1234" in json.dumps(c.body)]
            assert cards and all(utf16_size(c) < LIMIT for c in cards)
            [(_call, offer)] = fake.consents(chat)
            assert offer["name"].endswith(".docx") and offer["content"]["sizeInBytes"] > 10_000
            assert offer["content"]["acceptContext"] == {
                "ref": offer["content"]["acceptContext"]["ref"]
            }
        assert fake.violations == []


async def test_a_member_accepts_the_file_and_it_lands_in_their_chat(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        await close_largest_record(h, core)
        member = PEOPLE[3]
        chat, offer = consent_for(h, member)
        fake.clear()

        status, _ = await h.post(h.file_consent(member, chat, offer, "accept"))

        assert status == 200
        [stored] = fake.files
        assert (
            stored.content[:2] == b"PK" and len(stored.content) == offer["content"]["sizeInBytes"]
        )
        assert stored.content_range == f"bytes 0-{len(stored.content) - 1}/{len(stored.content)}"
        assert stored.authorization is None  # the Bot Framework token never leaves for OneDrive
        [shown] = [c for c in fake.sends() if c.conversation == chat]
        [info] = shown.body["attachments"]
        assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"
        assert info["name"] == offer["name"] and info["content"]["fileType"] == "docx"
        assert fake.violations == []


async def test_declining_is_answered_kindly_and_nothing_is_uploaded(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        await close_largest_record(h, core)
        member = PEOPLE[4]
        chat, offer = consent_for(h, member)
        fake.clear()

        status, _ = await h.post(h.file_consent(member, chat, offer, "decline"))

        assert status == 200
        assert fake.files == []
        [said] = [c for c in fake.sends() if c.conversation == chat]
        assert "No problem" in json.dumps(said.body)


async def test_an_upload_url_outside_onedrive_or_a_stranger_gets_nothing(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        await close_largest_record(h, core)
        member = PEOPLE[5]
        chat, offer = consent_for(h, member)
        fake.clear()

        evil = h.file_consent(member, chat, offer, "accept")
        evil["value"]["uploadInfo"]["uploadUrl"] = "https://evil.example/upload/1"
        assert (await h.post(evil))[0] == 200
        stranger = Person("Someone Else", "aad-stranger")
        replay = h.file_consent(stranger, stranger.personal, offer, "accept")
        assert (await h.post(replay))[0] == 200

        assert fake.files == []
        said = [json.dumps(c.body) for c in fake.sends()]
        assert any("couldn't save" in s for s in said)
        assert any("no longer available" in s for s in said)
        assert not any("AB-1234" in s for s in said if "stranger" in s)


async def test_a_refused_size_gets_a_smaller_card_never_a_lost_record(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector

        def refuse_sizes() -> None:
            # As if Teams' limit were far lower: the summary card is refused everywhere.
            fake.size_limit = 12_000

        progress = await close_largest_record(h, core, refuse_sizes)

        refused = [c for c in fake.delivered() if not c.result_id and "Key points" in str(c.body)]
        assert len(refused) >= MEMBERS + 1, "the full summary was refused everywhere"
        in_thread = [
            json.dumps(c.body) for c in fake.replies() if c.activity_id == progress.result_id
        ]
        assert any("too long to show here" in t and "AB-1234" in t for t in in_thread)
        for person in PEOPLE:
            chat = personal_of(h, person)
            shown = [c for c in fake.sends() if c.conversation == chat and c.result_id]
            texts = [json.dumps(c.body) for c in shown]
            assert any("too long to show here" in t and "AB-1234" in t for t in texts), person
            assert fake.consents(chat), "the file is still offered"
