"""Action learning sets (seed 002): roles given at the start decide who is asked what."""

from __future__ import annotations

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from storage.models import Answer, Member, Participation, ReflectionSession
from tests.factories.console import answer_everything, record_view


async def _roles(bot: ConsoleBackend) -> dict[str, str | None]:
    async with bot.runtime.core.db.read() as s:
        rows = await s.exec(
            select(Participation, Member).join(Member, Member.id == Participation.member_id)  # type: ignore[arg-type]
        )
        return {m.user_id: p.role for p, m in rows}


async def test_each_role_gets_its_own_questions(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "action_learning presenter=@sw enabler=@hv")
    assert await _roles(bot) == {"sw": "presenter", "hv": "enabler", "school": "observer"}
    told = bot.last_reply("ro").text
    assert "sw is the presenter" in told and "hv is the enabler" in told
    assert "Everyone else: observer" in told

    assert "Your role in this set is presenter." in bot.dialogue("sw").text
    assert "Your role in this set is observer." in bot.dialogue("school").text

    asked = {user: await answer_everything(bot, user) for user in ("sw", "hv", "school")}
    assert asked == {"sw": 7, "hv": 5, "school": 5}
    async with bot.runtime.core.db.read() as s:
        rows = await s.exec(select(Answer, Member).join(Member, Member.id == Answer.member_id))  # type: ignore[arg-type]
        answered: dict[str, set[str]] = {}
        for a, m in rows:
            answered.setdefault(m.user_id, set()).add(a.question_id)
    common = {"last_time", "takeaway", "useful"}
    assert answered["sw"] == common | {"issue", "reflect", "experiment", "act"}
    assert answered["hv"] == common | {"good_questions", "held_back"}
    assert answered["school"] == common | {"noticed", "observer_feedback"}


async def test_the_record_shows_the_presenters_issue(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "action_learning presenter=@sw enabler=@hv")
    for user in ("sw", "hv", "school"):
        await answer_everything(bot, user, words=f"Words from {user}")
    await bot.command("ro", "close")
    await bot.submit("ro", {})
    issue = next(q for q in record_view(bot).questions if q.id == "issue")
    assert [a.agency for a in issue.answers] == ["Social care"]
    assert "Words from sw" in (issue.answers[0].comment or "")


async def test_without_roles_everyone_is_an_observer(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "action_learning")
    assert set((await _roles(bot)).values()) == {"observer"}


async def test_bad_role_assignments_are_refused_and_nothing_opens(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "action_learning chair=@sw")
    assert "no role called 'chair'" in bot.last_reply("ro").text
    assert "presenter, enabler, observer" in bot.last_reply("ro").text
    await bot.command("ro", "action_learning presenter=@stranger")
    assert "stranger is not a member of this core group" in bot.last_reply("ro").text
    await bot.command("ro", "action_learning presenter=@sw enabler=@sw")
    assert "sw has two roles" in bot.last_reply("ro").text
    await bot.command("ro", "appendix1 presenter=@sw")
    assert "no roles" in bot.last_reply("ro").text
    async with bot.runtime.core.db.read() as s:
        assert list(await s.exec(select(ReflectionSession))) == []


async def test_other_sets_ask_everyone_everything(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "")
    assert set((await _roles(bot)).values()) == {None}
    assert await answer_everything(bot, "hv") == 14
