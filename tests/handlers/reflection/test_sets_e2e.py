"""Every shipped question set, in English and Welsh, from /reflect to the record, on both
databases: members answer every question (yes/no, choice, scale, text), submit, the facilitator
closes, and the record holds every group question but never the facilitator-only feedback."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from prompts.loader import load_catalogue
from prompts.strings import t
from storage.models import Participation
from tests.factories.console import MEMBERS, Seen, answer_everything, record_view

SET_IDS = load_catalogue().ids()


async def _run_whole_session(bot: ConsoleBackend, set_id: str, lang: str) -> Seen:
    seen = Seen(bot)
    if lang != "en":
        await bot.command("ro", f"language {lang} org")
    roles = " presenter=@sw enabler=@hv" if bot.runtime.core.sets.get(set_id).roles else ""
    await bot.command("ro", f"{set_id}{roles}")
    for user in MEMBERS:
        await answer_everything(bot, user)
    await bot.command("ro", "close")
    form = bot.form("ro")
    assert form is not None, bot.last_reply("ro").text
    values: dict[str, str | list[str] | bool | None] = {"family_sharing": "At the next visit."}
    for field in form.fields:
        if field.id.startswith("notes_"):
            values[field.id] = "We agreed to keep talking."
    await bot.submit("ro", values)
    return seen


def test_every_seed_format_is_shipped() -> None:
    assert {
        "appendix1",
        "checkin",
        "learning_review",
        "strategic_managers",
        "action_learning",
        "seven_minute_briefing",
    } <= set(SET_IDS)


@pytest.mark.parametrize("lang", ["en", "cy"])
@pytest.mark.parametrize("set_id", SET_IDS)
async def test_each_set_runs_from_reflect_to_the_record(
    group: ConsoleBackend, set_id: str, lang: str
) -> None:
    bot = group
    seen = await _run_whole_session(bot, set_id, lang)
    qset = bot.runtime.core.sets.get(set_id, lang)

    assert t("close.done", lang) in bot.last_reply("ro").text
    view = record_view(bot)
    in_record = {q.headline for q in view.questions}
    group_headlines = {q.headline for q in qset.questions if q.audience == "group"}
    private = {q.headline for q in qset.questions if q.audience == "facilitator"}
    assert group_headlines <= in_record
    assert not (private & in_record), "facilitator-only feedback reached the group record"
    # Every member's dialogue ends on the "closed" message in the reader's language.
    for user in MEMBERS:
        assert bot.dialogue(user).text == t("dialogue.session_closed", lang, child_ref="AB-1234")
    async with bot.runtime.core.db.read() as s:
        parts = list(await s.exec(select(Participation)))
    assert len(parts) == 3 and all(p.finished_at and p.attended for p in parts)
    assert seen.problems() == []


@pytest.mark.parametrize("set_id", SET_IDS)
async def test_welsh_members_see_welsh_buttons_headlines_and_footer(
    group: ConsoleBackend, set_id: str
) -> None:
    bot = group
    await bot.command("hv", "language cy")  # one member chooses Welsh; the rest stay English
    await bot.command("ro", set_id + (" presenter=@sw" if set_id == "action_learning" else ""))
    welsh = bot.runtime.core.sets.get(set_id, "cy")
    english = bot.runtime.core.sets.get(set_id, "en")
    assert welsh.language == "cy", f"{set_id} has no Welsh version"

    invite = bot.dialogue("hv")
    assert [b.label for b in invite.buttons()] == ["Dechrau", "Dim nawr"]
    assert welsh.title in invite.text
    shown = await bot.click("hv", "Dechrau")
    first = shown.text
    assert "Cwestiwn 1 o" in first and "munud ar ôl" in first
    assert any(q.headline in first for q in welsh.questions)
    # The English-speaking member in the same session still reads English.
    assert [b.label for b in bot.dialogue("sw").buttons()] == ["Start", "Not now"]
    assert english.title in bot.dialogue("sw").text
