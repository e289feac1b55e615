"""`reflect trajectory` in Teams, over real HTTP: the text arrives, and where Slack gets the
chart as a file, the Teams channel is told the chart can't be attached (never the Word notice)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from handlers.base.core import Core
from storage.models import AgreedPosition, CoreGroup, ReflectionSession, SessionStatus
from tests.bot.platforms.teams.teams_harness import (
    CHANNEL,
    TEAM,
    Person,
    fill_form,
    latest_form,
    personal_of,
    running,
    text_of,
)

RO = Person("Robin Reviewing Officer", "aad-ro")
SAM = Person("Sam Social Worker", "aad-sam")
HV = Person("Hana Health Visitor", "aad-hv")


async def _two_supervisions(core: Core) -> None:
    async with core.db.write() as s:
        group = (await s.exec(select(CoreGroup))).one()
        for month, position in ((3, "no"), (6, "yes")):
            closed = datetime(2026, month, 10, 12, tzinfo=UTC)
            session = ReflectionSession(
                group_id=group.id or 0,
                set_id="appendix1",
                set_version=1,
                opened_by=group.facilitator_id,
                opened_at=closed,
                status=SessionStatus.CLOSED,
                closed_by=group.facilitator_id,
                closed_at=closed,
            )
            s.add(session)
            await s.flush()
            s.add(
                AgreedPosition(
                    session_id=session.id or 0,
                    question_id="plan_working",
                    position=position,
                    recorded_by=group.facilitator_id,
                )
            )


async def test_trajectory_in_teams_says_the_chart_stays_in_slack(core: Core) -> None:
    async with running(core) as h:
        fake = h.connector
        fake.members[TEAM] = [p.account() for p in (RO, SAM, HV)]
        assert (await h.post(h.install_in_team(RO)))[0] == 200
        assert (await h.post(h.in_channel(RO, "reflect setup")))[0] == 200
        form = latest_form(h, personal_of(h, RO), "group.setup")
        values = {
            "child_ref": "AB-1234",
            "registered_on": "2026-01-05",
            "pre_birth": "false",
            "facilitator": RO.aad,
            "anchor": "registration",
            "member_1": SAM.aad,
            "agency_1": "Children's social care",
        }
        await fill_form(h, RO, form, values)
        await _two_supervisions(core)

        fake.clear()
        assert (await h.post(h.in_channel(SAM, "reflect trajectory")))[0] == 200
        said = "\n".join(text_of(c) for c in fake.to(CHANNEL))
        assert "Is the plan working well?" in said and "No → Yes" in said
        assert "This chart can't be attached in Teams" in said
        assert "Word copy" not in said
