"""The Lead Officer digest: counts and trends across groups, never a child, a name or free text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from bot.platforms.console.render import render_text
from bot.sweeper import SWEEP_KINDS, sweep
from handlers.base.core import Core
from handlers.base.events import Command
from handlers.base.messages import Direct, Message
from handlers.oversight.digest import (
    build_digest,
    digest_markdown,
    digest_message,
    monthly_digest_intents,
)
from handlers.oversight.digest_sweep import digest_key
from handlers.scheduling.deliveries import Send, to_delivery
from handlers.scheduling.kinds import due_deliveries, render
from storage.models import (
    Organisation,
    OrgRole,
    StaffRole,
)
from tests.factories.scenarios import digest_month, digest_secrets

FEB = date(2026, 2, 1)  # the clock stands at Monday 2 March 2026


def _everything(markdown: str, message: Message) -> str:
    return "\n".join([markdown, message.text, render_text(message)])


async def test_counts_rates_and_trends_with_small_counts_suppressed(core: Core) -> None:
    org_id = await digest_month(core)
    view = await build_digest(core, org_id, FEB)
    md = digest_markdown(view)
    assert md.startswith("# Lead Officer digest · February 2026")
    assert "**Supervisions held:** 6 (January 2026: fewer than 5)" in md
    assert "**Overdue supervisions now:** 5" in md
    assert "**Escalations to line managers:** fewer than 5" in md
    assert "| Parental engagement | 6 | fewer than 5 |  |" in md
    assert "| Resources | fewer than 5 | fewer than 5 |  |" in md
    assert "| Other (written in) | 6 | fewer than 5 |  |" in md
    plan = next(r for r in view.rates if r.headline == "Is the plan working well?")
    assert plan.agreed.text == "33% Yes · 67% No · 0% Not sure"
    assert plan.members.text == "50% Yes · 50% No · 0% Not sure"
    risks = next(r for r in view.rates if r.headline.startswith("Are the risks"))
    assert risks.agreed.text == "not shown: fewer than 5 answers"
    # Nothing that was suppressed can be read back out of the view itself.
    assert view.supervisions_last_month.value is None and view.escalations.value is None


async def test_no_child_reference_name_group_or_free_text_appears(core: Core) -> None:
    org_id = await digest_month(core)
    for floor in (1, 5):
        view = await build_digest(core, org_id, FEB, min_count=floor)
        text = _everything(digest_markdown(view), digest_message(view))
        for i in range(13):
            for secret in digest_secrets(i):
                assert secret not in text, (floor, secret)
        assert "Free text" not in text and "Council" not in text
        assert not re.search(r"\bRO\d|\bU\d\d\b", text)  # no user ids either


async def test_the_minimum_is_a_setting_and_trends_show_only_between_shown_counts(
    core: Core,
) -> None:
    org_id = await digest_month(core)
    everything = await build_digest(core, org_id, FEB, min_count=1)
    md = digest_markdown(everything)
    assert "**Supervisions held:** 6 (January 2026: 2) ↑" in md
    assert "**Escalations to line managers:** 3 (January 2026: 0) ↑" in md
    assert "| Resources | 2 | 0 | ↑ |" in md
    core.digest_min_count = 10
    strict = digest_markdown(await build_digest(core, org_id, FEB))
    assert "**Supervisions held:** fewer than 10" in strict
    assert "| Parental engagement | fewer than 10 |" in strict
    assert "Counts below 10" in strict


async def test_an_empty_month_says_so_and_suppresses_everything(core: Core) -> None:
    org_id = await digest_month(core)
    md = digest_markdown(await build_digest(core, org_id, date(2025, 6, 1)))
    assert "**Supervisions held:** fewer than 5" in md
    assert "No supervisions with Yes/No questions this month." in md


async def test_monthly_digest_goes_to_each_lead_officer_only(core: Core) -> None:
    org_id = await digest_month(core)
    assert await monthly_digest_intents(core, org_id, FEB) == []  # no Lead Officer yet
    async with core.db.write() as s:
        s.add(StaffRole(org_id=org_id, user_id="LO1", role=OrgRole.LEAD_OFFICER))
        s.add(StaffRole(org_id=org_id, user_id="LO2", role=OrgRole.LEAD_OFFICER))
        s.add(StaffRole(org_id=org_id, user_id="ADM", role=OrgRole.ADMIN))
    intents = await monthly_digest_intents(core, org_id, "2026-02")
    assert [i.user_id for i in intents if isinstance(i, Direct)] == ["LO1", "LO2"]
    assert len(intents) == 2
    first = intents[0]
    assert isinstance(first, Direct)
    assert "Lead Officer digest · February 2026" in first.message.text
    assert digest_key(org_id, FEB) == f"digest:{org_id}:2026-02"


# ---- in chat ----------------------------------------------------------------------------------


async def _console_org(bot: ConsoleBackend) -> int:
    async with bot.runtime.core.db.read() as s:
        org = (await s.exec(select(Organisation))).one()
    return org.id or 0


async def test_lead_officer_and_admin_get_the_digest_in_chat_others_are_refused(
    group: ConsoleBackend,
) -> None:
    bot = group
    await digest_month(bot.runtime.core, await _console_org(bot))
    await bot.command("hv", "digest")
    refused = bot.last_reply("hv").text
    assert "The digest is for the Lead Officer" in refused and "digest ·" not in refused

    await bot.command("ro", "digest")  # the first admin; this month so far
    assert "Lead Officer digest · March 2026" in bot.last_reply("ro").text

    await bot.command("ro", "role @lo lead_officer")
    await bot.send(Command(bot.actor("lo"), "digest 2026-02", None, is_direct=True))
    reply = render_text(bot.last_reply("lo"))
    assert "Lead Officer digest · February 2026" in reply
    assert "Parental engagement" in reply and "6" in reply
    for i in range(13):
        for secret in digest_secrets(i):
            assert secret not in reply
    assert "AB-1234" not in reply  # nor the group the command was typed near

    await bot.command("lo", "digest February")
    assert "YYYY-MM" in bot.last_reply("lo").text


# ---- monthly, by the sweep ----------------------------------------------------------------------


async def planned_digests(core: Core, now: datetime) -> list:
    """The digest rows the sweep's planning inserts (every kind it plans, digests kept)."""
    return [p for p in await due_deliveries(core, now, kinds=SWEEP_KINDS) if p.kind == "digest"]


async def test_scheduler_plans_last_months_digest_once_on_the_first_working_day(
    core: Core,
) -> None:
    org_id = await digest_month(core)
    async with core.db.write() as s:
        s.add(StaffRole(org_id=org_id, user_id="LO1", role=OrgRole.LEAD_OFFICER))
    early = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 2 March, before the office opens
    assert await planned_digests(core, early) == []
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    planned = await planned_digests(core, now)
    assert [p.key for p in planned] == [f"digest:{org_id}:2026-02"]
    assert await planned_digests(core, now) == []  # once
    decision = await render(core, to_delivery(planned[0]), now, kinds=SWEEP_KINDS)
    assert isinstance(decision, Send)
    assert [i.user_id for i in decision.intents if isinstance(i, Direct)] == ["LO1"]
    first = decision.intents[0]
    assert isinstance(first, Direct) and "February 2026" in first.message.text
    late = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # a deployment started mid-month
    async with core.db.write() as s:
        other = Organisation(platform="console", external_id="T-late")
        s.add(other)
        await s.flush()
        s.add(StaffRole(org_id=other.id or 0, user_id="LO9", role=OrgRole.LEAD_OFFICER))
    assert await planned_digests(core, late) == []


async def test_the_sweep_sends_the_digest_to_the_lead_officer(group: ConsoleBackend) -> None:
    bot = group
    await digest_month(bot.runtime.core, await _console_org(bot))
    await bot.command("ro", "role @lo lead_officer")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    await sweep(bot.runtime, now=now, pace_seconds=0)  # plans the month's digest, then sends it
    digests = [m for m in bot.dms("lo") if "Lead Officer digest" in m.text]
    assert len(digests) == 1 and "February 2026" in digests[0].text
    await sweep(bot.runtime, now=datetime(2026, 3, 2, 11, 0, tzinfo=UTC), pace_seconds=0)
    assert len([m for m in bot.dms("lo") if "Lead Officer digest" in m.text]) == 1
