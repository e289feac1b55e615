"""Who is asking is resolved once per event: the organisation, the person's roles and language
are read in one statement by the router, and the handlers do not query them again."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.events import TypedText
from handlers.base.i18n import language_name
from prompts.strings import t
from storage.models import CoreGroup, Organisation, OrgRole, StaffRole
from tests.handlers.conftest import SETUP
from tests.handlers.statements import Statements, counting

# The tables that hold who someone is: read once, in the router's one statement.
SELF = ("organisation", "person_preference", "staffrole")


def read_once(seen: Statements) -> None:
    resolving = seen.reading("organisation")
    assert len(resolving) == 1, resolving
    for table in SELF:
        assert seen.reading(table) == resolving, (table, seen.sql)


async def test_an_answer_click_reads_who_is_asking_once(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "")
    await bot.click("hv", "Start")
    with counting(bot.runtime.core.db) as seen:
        await bot.click("hv", "Yes")
    read_once(seen)
    assert len(seen) <= 6, seen.sql  # was 7 when each helper looked the organisation up
    assert "2" in bot.dialogue("hv").text  # the click moved her on to question 2


async def test_status_reads_who_is_asking_once(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "")
    with counting(bot.runtime.core.db) as seen:
        await bot.command("ro", "status")
    read_once(seen)
    assert "0 of 3 have reflected" in bot.last_reply("ro").text


async def test_the_close_form_reads_the_closers_roles_and_language_once(
    group: ConsoleBackend,
) -> None:
    bot = group
    await bot.command("ro", "")
    await bot.command("ro", "close")
    with counting(bot.runtime.core.db) as seen:
        await bot.submit("ro", {"pos_plan_working": "no", "family_sharing": "x"})
    # The closer's own preference and roles are never read again (the record's readers'
    # languages are one batched read of person_preference, not the closer's).
    assert len(seen.reading("staffrole")) == 1, seen.sql
    own = [q for q in seen.sql if "FROM person_preference" in q and " IN (" not in q]
    assert own == [], own
    assert len(seen.reading("staffrole")) == 1, seen.sql


async def test_help_and_refusals_cost_one_statement(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "")
    with counting(bot.runtime.core.db) as seen:
        await bot.command("sw", "help")
    assert len(seen) == 1, seen.sql
    with counting(bot.runtime.core.db) as seen:
        await bot.command("sw", "close")  # only the facilitator may: refused kindly
    assert bot.last_reply("sw").text == "Only the facilitator can close this session."
    read_once(seen)


async def test_channel_chatter_costs_no_query(group: ConsoleBackend) -> None:
    bot = group
    with counting(bot.runtime.core.db) as seen:
        await bot.send(
            TypedText(actor=bot.actor("sw"), text="morning all", channel_id="C1", is_direct=False)
        )
    assert seen.sql == []


async def test_a_language_change_answers_in_the_new_language(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("hv", "language cy")
    welsh = language_name("cy", "cy")
    assert bot.last_reply("hv").text == t("language.person_set", "cy", language=welsh)
    await bot.command("hv", "language en")
    english = language_name("en", "en")
    assert bot.last_reply("hv").text == t("language.person_set", "en", language=english)


async def test_an_organisation_language_change_answers_in_it(group: ConsoleBackend) -> None:
    bot = group
    await bot.command("ro", "language cy org")  # ro set up the first group: an admin
    welsh = language_name("cy", "cy")
    assert bot.last_reply("ro").text == t("language.org_set", "cy", language=welsh)
    await bot.command("sw", "help")
    assert "Dyma beth alla i ei wneud" in bot.last_reply("sw").text


async def test_a_role_given_during_the_event_counts_at_once(bot: ConsoleBackend) -> None:
    """An imported group, an organisation with no admin yet: the first person to set it up
    becomes admin in that same event, and as admin may change the group (the request, read
    before, said "no roles": the session's own write wins)."""
    async with bot.runtime.core.db.write() as s:
        org = Organisation(platform="console", external_id="console")
        s.add(org)
        await s.flush()
        s.add(
            CoreGroup(
                org_id=org.id or 0,
                child_ref="AB-1234",
                registered_on=date(2026, 1, 5),
                facilitator_id="ro",
                channel_id=bot.channel,
            )
        )
    await bot.command("admin", SETUP.replace("facilitator=@ro", "facilitator=@ro2"))
    log = bot.channel_log()
    assert log and "AB-1234" in log[-1].text, bot.last_reply("admin").text
    async with bot.runtime.core.db.read() as s:
        group = (await s.exec(select(CoreGroup))).one()
        roles = list(await s.exec(select(StaffRole.role).where(StaffRole.user_id == "admin")))
    assert group.facilitator_id == "ro2"
    assert roles == [OrgRole.ADMIN]
