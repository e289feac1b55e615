"""A group's history of closed supervisions, for trajectory and record tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.platforms.console.backend import ConsoleBackend
from handlers.base.core import Core
from storage.models import SessionStatus
from tests.factories.rows import (
    Person,
    add_answers,
    add_group,
    add_members,
    add_organisation,
    add_position,
    add_session,
)

# One session: question id -> (agreed position or None, the members' choices).
SessionPlan = dict[str, tuple[str | None, list[str]]]


async def seed_history(
    core: Core,
    plans: list[SessionPlan],
    *,
    child_ref: str = "CD-5678",
    org_external: str = "T-history",
    extra: list[SessionStatus] | None = None,
) -> tuple[int, list[int]]:
    """One group whose closed sessions follow ``plans`` six months apart, oldest first."""
    async with core.db.write() as s:
        org = await add_organisation(s, external_id=org_external, name="Council")
        group = await add_group(
            s,
            org,
            child_ref=child_ref,
            registered_on=date(2025, 3, 1),
            facilitator_id="RO",
            channel_id=f"C-{org_external}",
        )
        members = await add_members(s, group, [Person(f"M{i}", f"Member {i}") for i in range(3)])
        ids = []
        for n, plan in enumerate(plans):
            closed = datetime(2025, 6 + (n % 2) * 6, 10, 11, 0, tzinfo=UTC).replace(
                year=2025 + n // 2
            )
            session = await add_session(
                s, group, opened_at=closed, closed_by="RO", closed_at=closed
            )
            ids.append(session.id or 0)
            for qid, (position, _) in plan.items():
                if position is not None:
                    await add_position(s, session, qid, position)
            choices = {qid: [(c, None) for c in given] for qid, (_, given) in plan.items()}
            await add_answers(s, session, members, choices)
        for status in extra or []:
            cancelled = status == SessionStatus.CANCELLED
            await add_session(
                s,
                group,
                opened_at=datetime(2027, 1, 5, tzinfo=UTC),
                status=status,
                closed_at=datetime(2027, 1, 6, tzinfo=UTC) if cancelled else None,
            )
        return group.id or 0, ids


async def close_with(bot: ConsoleBackend, position: str | None) -> None:
    await bot.command("ro", "close")
    values: dict[str, str | list[str] | bool | None] = {"family_sharing": "At the next visit."}
    if position:
        values["pos_plan_working"] = position
    await bot.submit("ro", values)
