"""Subject access and erasure: what a person can get back, and what erasing them leaves."""

from __future__ import annotations

import logging
import re

import pytest
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotFound
from handlers.base.events import Actor, Command
from handlers.governance import privacy
from handlers.records.build import build_record
from handlers.router import handle
from storage.models import (
    Answer,
    AuditEvent,
    CoreGroup,
    Member,
    Participation,
    ReflectionSession,
    StaffRole,
)
from tests.factories.console import CHILD, NOTES, SECRET, full_session


def _bot(core: Core) -> ConsoleBackend:
    return ConsoleBackend(Runtime(settings=Settings(), core=core))


async def _audit(core: Core, action: str) -> list[AuditEvent]:
    async with core.db.read() as s:
        return list(await s.exec(select(AuditEvent).where(AuditEvent.action == action)))


async def test_subject_access_export_has_everything_about_the_person(core: Core):
    bot = _bot(core)
    sid = await full_session(bot)
    data = await privacy.export_user(core, privacy.Subject("console", "hv"))
    assert [m["group_id"] for m in data["memberships"]] and data["memberships"][0]["agency"]
    assert data["memberships"][0]["child_ref"] == CHILD
    comments = [a["comment"] for a in data["answers"] if a["comment"]]
    assert f"{SECRET} comment by hv" in comments and f"{SECRET} child voice by hv" in comments
    assert not any("by sw" in c for c in comments)  # only this person's answers
    assert [p["session_id"] for p in data["participations"]] == [sid]
    assert [a["text"] for a in data["actions_owned"]] == [f"{NOTES} action"]
    assert "answers.submitted" in {e["action"] for e in data["audit_events_as_actor"]}
    events = await _audit(core, "privacy.exported")
    assert len(events) == 1 and events[0].subject == "user:hv"
    assert SECRET not in str(events[0].detail) and CHILD not in str(events[0].detail)


async def test_export_of_the_facilitator_lists_what_they_ran(core: Core):
    bot = _bot(core)
    sid = await full_session(bot)
    data = await privacy.export_user(core, privacy.Subject("console", "ro"))
    assert [x["id"] for x in data["sessions_opened_or_closed"]] == [sid]
    assert data["facilitator_or_chair_of"][0]["facilitator"] is True
    assert [r["role"] for r in data["staff_roles"]] == ["admin"]
    assert data["agreed_positions_recorded"][0]["notes"] == NOTES


async def test_export_is_limited_to_the_named_organisation(core: Core):
    bot = _bot(core)
    await full_session(bot)
    # The same user id in another workspace is another person.
    other = Actor("slack", "T-OTHER", "hv", "Someone else")
    await handle(
        core, Command(other, "setup child=ZZ-1 registered=2026-01-05 facilitator=@hv", "C9")
    )
    mine = await privacy.export_user(core, privacy.Subject("console", "hv", "console"))
    theirs = await privacy.export_user(core, privacy.Subject("slack", "hv", "T-OTHER"))
    assert {m["child_ref"] for m in mine["memberships"]} == {CHILD}
    assert {m["child_ref"] for m in theirs["memberships"]} == {"ZZ-1"}
    assert theirs["answers"] == []
    with pytest.raises(BadInput):
        privacy.parse_org("slack")


async def test_erasing_a_person_removes_their_words_and_keeps_the_record(core: Core):
    bot = _bot(core)
    sid = await full_session(bot)
    result = await privacy.erase_user(core, privacy.Subject("console", "hv"))
    assert result.counts["answers"] > 0 and result.counts["members_anonymised"] == 1
    async with core.db.read() as s:
        hv = list(await s.exec(select(Member).where(Member.user_id == "hv")))
        former = list(await s.exec(select(Member).where(Member.display_name == "Former member")))
        answers = list(await s.exec(select(Answer)))
        parts = list(await s.exec(select(Participation)))
    assert hv == [] and len(former) == 1 and former[0].agency == "" and not former[0].active
    assert answers and all(a.member_id != former[0].id for a in answers)  # sw's answers stay
    assert len(parts) == 3  # attendance stays with the anonymised row
    record = await build_record(core, sid)
    assert "Hana" not in {p.name for p in record.attendees}
    events = await _audit(core, "privacy.erased_user")
    assert events and events[0].detail["counts"]["answers"] == result.counts["answers"]
    assert any("audit events" in k for k in result.kept)
    # Nothing left to export for them.
    again = await privacy.export_user(core, privacy.Subject("console", "hv"))
    assert again["memberships"] == [] and again["answers"] == []


async def test_erasing_someone_unknown_is_a_clear_refusal(core: Core):
    with pytest.raises(NotFound):
        await privacy.erase_user(core, privacy.Subject("console", "nobody"))


async def test_erasing_the_facilitator_says_what_must_be_kept(core: Core):
    bot = _bot(core)
    await full_session(bot)
    result = await privacy.erase_user(core, privacy.Subject("console", "ro"))
    assert any("facilitator or chair" in k for k in result.kept)
    async with core.db.read() as s:
        roles = list(await s.exec(select(StaffRole).where(StaffRole.user_id == "ro")))
    assert roles == []


async def test_erasing_a_group_deletes_it_and_leaves_other_groups(core: Core):
    bot = _bot(core)
    await full_session(bot)
    other = ConsoleBackend(bot.runtime, channel="other-group", transport=bot.transport)
    await other.command(
        "ro", "setup child=XY-1 registered=2026-01-05 facilitator=@ro members=@sw:Social care"
    )
    async with core.db.read() as s:
        first = (await s.exec(select(CoreGroup).where(CoreGroup.child_ref == CHILD))).one()
    with pytest.raises(NotFound):
        await privacy.erase_group(core, first.id or 0, ("slack", "T1"))  # wrong organisation
    result = await privacy.erase_group(core, first.id or 0, ("console", "console"))
    assert result.counts["sessions"] == 1
    async with core.db.read() as s:
        groups = [g.child_ref for g in await s.exec(select(CoreGroup))]
        sessions = list(await s.exec(select(ReflectionSession)))
        answers = list(await s.exec(select(Answer)))
        members = {m.group_id for m in await s.exec(select(Member))}
    assert groups == ["XY-1"] and sessions == [] and answers == [] and len(members) == 1
    events = await _audit(core, "privacy.erased_group")
    assert events[0].subject == f"group:{first.id}"


# ---- data minimisation --------------------------------------------------------------------------


async def test_names_are_refused_as_child_references_unless_the_organisation_allows_them(
    core: Core,
):
    actor = Actor("console", "org-min", "ro")
    for name in ("Jane Smith", "jsmith", "JANESMITH"):
        reply = await handle(
            core, Command(actor, f"setup child={name} registered=2026-01-05 facilitator=@ro", "c1")
        )
        assert "initials or a case number" in reply[0].message.text, name
    async with core.db.read() as s:
        assert list(await s.exec(select(CoreGroup))) == []
    ok = await handle(
        core, Command(actor, "setup child=JS-2041 registered=2026-01-05 facilitator=@ro", "c1")
    )
    assert "set up" in ok[0].message.text.lower()
    # An organisation that decided to use names can.
    async with core.db.write() as s:
        from storage.models import Organisation

        org = (await s.exec(select(Organisation))).one()
        org.child_names_allowed = True
        s.add(org)
    named = await handle(
        core, Command(actor, "setup child=Jane Smith registered=2026-01-05 facilitator=@ro", "c2")
    )
    assert "Jane Smith" in named[0].message.text


IDS_ONLY = re.compile(r"^[0-9:a-z_]*$")


async def test_no_child_reference_or_answer_leaves_the_store_except_to_its_readers(
    core: Core, clock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    """Logs, button values, form state and scheduler ledger rows carry ids only."""
    import bot.runtime
    from bot.logging import JsonFormatter, PrivacyFilter
    from bot.sweeper import sweep
    from handlers.scheduling.kinds import due_deliveries
    from storage.models import Delivery

    produced: list = []
    real_handle = bot.runtime.handle

    async def recording(core_: Core, event: object) -> list:
        intents = await real_handle(core_, event)  # type: ignore[arg-type]
        produced.extend(intents)
        return intents

    monkeypatch.setattr(bot.runtime, "handle", recording)
    caplog.set_level(logging.DEBUG)
    console = _bot(core)
    await full_session(console)
    # A second session with reminders planned and sent while it is open.
    await console.command("ro", "")
    invite = console.last_dm("sw")
    await console.click("sw", "Start", invite)
    await console.click("sw", "Add a comment", invite)
    await console.submit("sw", {"text": f"{SECRET} second session"})
    await console.command("ro", "remind")
    await console.command("hv", "close")  # refused: logged by the router
    await console.home("hv")
    for days in (1, 2, 3, 20):
        clock.advance(days=days)
        await due_deliveries(core, clock())
        await sweep(console.runtime, now=clock(), pace_seconds=0)

    secrets = (SECRET, NOTES, CHILD, "Hana", "Health visiting")
    # Buttons and forms: opaque ids only.
    for intent in produced:
        message = getattr(intent, "message", None)
        blocks = message.blocks if message is not None else ()
        for block in blocks:
            for button in getattr(block, "buttons", ()):
                assert IDS_ONLY.match(button.value), button
        form = getattr(intent, "form", None)
        if form is not None:
            assert IDS_ONLY.match(form.state), form.form_id
    assert any(getattr(i, "form", None) for i in produced)
    # Scheduler ledger rows: ids and kinds only.
    async with core.db.read() as s:
        rows = list(await s.exec(select(Delivery)))
    assert rows, "the sweep planned nothing, so this test proves nothing"
    for row in rows:
        said = f"{row.key} {row.kind} {row.sent_ref} {row.last_error}"
        assert not any(secret in said for secret in secrets), said
    # Logs: neither what our code logs nor what the JSON handler would write.
    assert any(r.name.startswith("handlers") for r in caplog.records)
    privacy_filter, formatter = PrivacyFilter(), JsonFormatter()
    ours = ("handlers", "bot", "storage", "prompts")
    for record in caplog.records:
        if record.name.split(".")[0] in ours:  # libraries are redacted by the filter below
            raw = record.getMessage() + " " + str(record.__dict__)
            assert not any(secret in raw for secret in secrets), record.name
        privacy_filter.filter(record)
        out = formatter.format(record)
        assert not any(secret in out for secret in secrets), out
