"""Attendance per member and group, and "Was this useful?" counts for the facilitator only."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.reflection.feedback import feedback_summary
from storage.models import CoreGroup
from tests.factories.console import answer_everything, record_view

SET = "seven_minute_briefing"


async def test_feedback_counts_reach_the_facilitator_but_not_the_record(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", SET)
    await answer_everything(bot, "sw")
    await answer_everything(bot, "hv")
    await answer_everything(bot, "school", prefer=("Partly useful",))
    await bot.command("ro", "close")
    await bot.submit("ro", {})
    done = bot.last_reply("ro").text
    assert "Was this useful?" in done
    assert "Yes, very useful: 2" in done and "Partly useful: 1" in done
    assert "Not really" not in done  # nobody picked it: no zero counts
    assert all("useful" not in q.headline.lower() for q in record_view(bot).questions)

    await bot.command("ro", "feedback")
    shown = bot.last_reply("ro").text
    assert "3 answers" in shown and "Yes, very useful: 2" in shown
    assert re.findall(r"\b(?:sw|hv|school|Sam|Hana|Sol)\b", shown) == []  # counts, never names


async def test_feedback_is_for_the_facilitator_only(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("sw", "feedback")
    assert bot.last_reply("sw").text == "Only the facilitator can see the feedback."


async def test_no_feedback_yet_says_so(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "feedback")
    assert "Nobody has said if the sessions were useful yet." in bot.last_reply("ro").text


async def test_feedback_summary_of_a_group_adds_up_its_sessions(group: ConsoleBackend) -> None:
    bot = group
    for _ in range(2):
        await bot.command("ro", SET)
        await answer_everything(bot, "sw")
        await bot.command("ro", "close")
        await bot.submit("ro", {})
    core = bot.runtime.core
    async with core.db.read() as s:
        group_id = (await s.exec(select(CoreGroup.id))).one()
    summary = await feedback_summary(core, group_id=group_id)
    assert summary.sessions == 2 and summary.answers == 2
    assert dict(summary.counts)["Yes, very useful"] == 2


async def test_close_form_offers_attendance_ticked_for_those_who_answered(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", SET)
    await answer_everything(bot, "hv")
    await bot.command("ro", "close")
    form = bot.form("ro")
    assert form is not None
    [field] = [f for f in form.fields if f.id == "attended"]
    assert field.kind == "users" and field.initial == ("hv",)
    assert {o.value for o in field.options} == {"sw", "hv", "school"}


async def test_attendance_rates_per_member_across_sessions(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "attendance")
    assert "No session has closed here yet" in bot.last_reply("ro").text

    # Session 1: everyone answers; the facilitator records that school was not there.
    await bot.command("ro", SET)
    for user in ("sw", "hv", "school"):
        await answer_everything(bot, user)
    await bot.command("ro", "close")
    await bot.submit("ro", {"attended": ["sw", "@hv"]})
    # Session 2: only sw answers; the form's attendance is left as it was.
    await bot.command("ro", SET)
    await answer_everything(bot, "sw")
    await bot.command("ro", "close")
    await bot.submit("ro", {})

    await bot.command("ro", "attendance")
    shown = bot.last_reply("ro").text
    assert "Sam: 2 of 2 (100%)" in shown
    assert "Hana: 1 of 2 (50%)" in shown
    assert "Sol: 0 of 2 (0%)" in shown
    assert "Overall: 50% of places were taken up, over 2 sessions." in shown

    await bot.command("hv", "attendance")
    assert bot.last_reply("hv").text == "Only the facilitator can see attendance."
