"""Record: compile, render and export the record of a large session (20 members × 14 questions).

    python -m bench.record
    python -m bench.record --db sqlite,postgres --members 20 --repeat 50 --supervisions 6

One closed Appendix 1 session is seeded: every member answers every question, most with a
comment of a few sentences; the facilitator records an agreed position and notes for each
question, four actions, themes and how it will be shared with the family. We time
``build_record`` (the database reads), ``render_record`` for each target (Slack mrkdwn, Teams
markdown, Markdown, HTML) and ``record_docx`` (the Word file), each the median of
``--repeat`` runs after one warm-up. Targets: render < 20 ms, Word < 200 ms without charts.
The group has ``--supervisions`` closed supervisions (default 2, the latest the large one), so
the record has a trajectory: the chart's cost (``trajectory_chart``, matplotlib) and the Word
file with the chart are reported on their own rows, without a target.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bench.common import header, percentile, table, throwaway_database, verdict
from bot.bootstrap import build_core
from bot.settings import Settings
from handlers.base.record_view import RecordView
from handlers.records.build import build_record, render_record
from handlers.records.charts import trajectory_chart
from handlers.records.files import record_docx
from prompts.loader import DEFAULT_SET, load_catalogue
from prompts.render import Target
from prompts.schema import QuestionSet
from storage.db import Database
from storage.models import (
    AgreedPosition,
    Member,
    MemberRole,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)
from tests.factories.rows import (
    Person,
    add_action,
    add_answer,
    add_group,
    add_members,
    add_organisation,
    add_participation,
    add_position,
    add_session,
)

RENDER_TARGET_MS = 20.0
WORD_TARGET_MS = 200.0
CLOSED_AT = datetime(2026, 6, 30, 15, 0, tzinfo=UTC)
COMMENT = (
    "Attendance at nursery is up since the last meeting and Mum says mornings are calmer. "
    "Dad has not been seen since March; the school has had no contact either. "
)
T = TypeVar("T")


async def seed_earlier(db: Database, group_id: int, count: int) -> None:
    """``count`` earlier closed supervisions, a quarter apart, with an agreed position each."""
    qset = load_catalogue().get(DEFAULT_SET)
    async with db.write() as s:
        for n in range(count):
            closed = CLOSED_AT - timedelta(days=91 * (count - n))
            earlier = ReflectionSession(
                group_id=group_id,
                set_id=qset.id,
                set_version=qset.version,
                opened_by="U0000RO",
                opened_at=closed - timedelta(days=3),
                status=SessionStatus.CLOSED,
                closed_by="U0000RO",
                closed_at=closed,
            )
            s.add(earlier)
            await s.flush()
            for i, q in enumerate(qset.questions):
                if q.choice_values:
                    s.add(
                        AgreedPosition(
                            session_id=earlier.id or 0,
                            question_id=q.id,
                            position=q.choice_values[(n + i) % len(q.choice_values)],
                            recorded_by="U0000RO",
                            recorded_at=closed,
                        )
                    )


async def seed(db: Database, members: int, supervisions: int = 1) -> int:
    """One closed session of ``members`` members who answered everything; its id.

    ``supervisions - 1`` earlier ones come before it, so its record has a trajectory.
    """
    qset = load_catalogue().get(DEFAULT_SET)
    rae = Person("U0000RO", "Rae Officer", "Reviewing service", MemberRole.FACILITATOR)
    people = [
        Person(f"U{m:06d}", f"Practitioner {m:02d}", f"Agency {m % 7}") for m in range(members)
    ]
    async with db.write() as s:
        org = await add_organisation(s, platform="slack", external_id="T0001", name="Council")
        group = await add_group(s, org, facilitator_id=rae.user_id, channel_id="C0000001")
        await add_members(s, group, [rae])
        practitioners = await add_members(s, group, people)
        session = await add_session(
            s,
            group,
            set_id=qset.id,
            set_version=qset.version,
            opened_at=CLOSED_AT - timedelta(days=3),
            closed_by=rae.user_id,
            closed_at=CLOSED_AT,
            family_sharing="The social worker will go through it with Mum on Friday.",
            takeaways="Ask the child directly before the next conference.",
            themes=["parental_engagement", "housing pressure"],
            escalation="Housing delay raised with line managers.",
        )
        await _everyone_answers_everything(s, session, practitioners, qset)
        await _positions_and_actions(s, session, practitioners, qset)
        sid, gid = session.id or 0, group.id or 0
    await seed_earlier(db, gid, supervisions - 1)
    return sid


async def _everyone_answers_everything(
    s: AsyncSession, session: ReflectionSession, people: list[Member], qset: QuestionSet
) -> None:
    """Each answers every question, most with a comment, a day before the close."""
    answered = CLOSED_AT - timedelta(days=1)
    for n, person in enumerate(people):
        finished = CLOSED_AT - timedelta(hours=n + 1)
        state = ParticipationState.DONE
        await add_participation(
            s, session, person, state=state, finished_at=finished, attended=True
        )
        for i, q in enumerate(qset.questions):
            values = q.choice_values
            choice = values[(n + i) % len(values)] if values else None
            comment = COMMENT if (n + i) % 3 or not choice else None
            await add_answer(
                s, session, person, q.id, choice, comment, answered_at=answered, updated_at=answered
            )


async def _positions_and_actions(
    s: AsyncSession, session: ReflectionSession, people: list[Member], qset: QuestionSet
) -> None:
    """An agreed position and notes on every question, and four actions."""
    for q in qset.questions:
        await add_position(
            s,
            session,
            q.id,
            q.choice_values[0] if q.choice_values else None,
            notes="Agreed after discussion; revisit at the review conference.",
            key_point=q.kind == "text",
            recorded_at=CLOSED_AT,
        )
    for a in range(4):
        await add_action(
            s,
            session,
            f"Action {a + 1}: ask school about attendance and report back.",
            owner_member_id=people[a].id,
            due_on=date(2026, 7, 20 + a),
        )


def timed(fn: Callable[[], T], repeat: int) -> tuple[list[float], T]:
    result = fn()  # warm-up: templates compiled, caches filled
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


async def timed_async(fn: Callable[[], Awaitable[T]], repeat: int) -> tuple[list[float], T]:
    result = await fn()
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    return times, result


def _row(db: str, what: str, times: list[float], size: str, target_ms: float | None) -> list[Any]:
    median = statistics.median(times) * 1000
    return [
        db,
        what,
        median,
        percentile(times, 95) * 1000,
        min(times) * 1000,
        size,
        f"< {target_ms:.0f} ms: {verdict(median, target_ms)}" if target_ms else "",
    ]


async def compiled(
    kind: str, members: int, repeat: int, supervisions: int
) -> tuple[list[float], RecordView]:
    """build_record's times on one database, and the record it built."""
    async with throwaway_database(kind) as url:
        db = Database(url)
        try:
            await db.create_all()
            sid = await seed(db, members, supervisions)
            core = build_core(Settings(_env_file=None), db, clock=lambda: CLOSED_AT)
            return await timed_async(functools.partial(build_record, core, sid), repeat)
        finally:
            await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma)")
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--supervisions",
        type=int,
        default=2,
        help="closed supervisions of the group (2 or more draw the trajectory chart)",
    )
    args = parser.parse_args()
    header("Record render and Word export", "bench.record")
    rows: list[list[Any]] = []
    view: RecordView | None = None
    for kind in args.db.split(","):
        times, view = await compiled(kind, args.members, args.repeat, args.supervisions)
        answers = sum(len(q.answers) for q in view.questions)
        rows.append(_row(kind, "build_record (database)", times, f"{answers} answers", None))
    assert view is not None
    print(f"{args.members} members × {len(view.questions)} questions", flush=True)
    # Rendering and the Word file read the compiled view only: no database involved.
    targets: tuple[Target, ...] = ("slack", "teams", "markdown", "html")
    for target in targets:
        times, text = timed(functools.partial(render_record, view, target), args.repeat)
        rows.append(_row("—", f"render {target}", times, f"{len(text):,} chars", RENDER_TARGET_MS))
    times, docx = timed(functools.partial(record_docx, view, charts=False), args.repeat)
    rows.append(
        _row("—", "Word (.docx), no chart", times, f"{len(docx) // 1024} KiB", WORD_TARGET_MS)
    )
    if view.trajectory is not None and view.trajectory.several:
        path = view.trajectory
        times, chart = timed(functools.partial(trajectory_chart, path), args.repeat)
        rows.append(
            _row("—", "trajectory chart (PNG)", times, f"{len(chart.png) // 1024} KiB", None)
        )
        times, docx = timed(functools.partial(record_docx, view), args.repeat)
        rows.append(_row("—", "Word with the chart", times, f"{len(docx) // 1024} KiB", None))
    print()
    print(table(["db", "step", "median ms", "p95 ms", "min ms", "output", "target"], rows))


if __name__ == "__main__":
    asyncio.run(main())
