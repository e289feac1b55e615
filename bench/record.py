"""Record: compile, render and export the record of a large session (20 members × 14 questions).

    python -m bench.record
    python -m bench.record --db sqlite,postgres --members 20 --repeat 50

One closed Appendix 1 session is seeded: every member answers every question, most with a
comment of a few sentences; the facilitator records an agreed position and notes for each
question, four actions, themes and how it will be shared with the family. We time
``build_record`` (the database reads), ``render_record`` for each target (Slack mrkdwn, Teams
markdown, Markdown, HTML) and ``record_docx`` (the Word file), each the median of
``--repeat`` runs after one warm-up. Targets: render < 20 ms, Word < 200 ms.
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

from bench.common import header, percentile, table, throwaway_database, verdict
from bot.bootstrap import build_core
from bot.settings import Settings
from handlers.base.record_view import RecordView
from handlers.records.build import build_record, render_record
from handlers.records.files import record_docx
from prompts.loader import DEFAULT_SET, load_catalogue
from prompts.render import Target
from storage.db import Database
from storage.models import (
    ActionItem,
    AgreedPosition,
    Answer,
    CoreGroup,
    Member,
    MemberRole,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

RENDER_TARGET_MS = 20.0
WORD_TARGET_MS = 200.0
CLOSED_AT = datetime(2026, 6, 30, 15, 0, tzinfo=UTC)
COMMENT = (
    "Attendance at nursery is up since the last meeting and Mum says mornings are calmer. "
    "Dad has not been seen since March; the school has had no contact either. "
)
T = TypeVar("T")


async def seed(db: Database, members: int) -> int:
    """One closed session of ``members`` members who answered everything; its id."""
    qset = load_catalogue().get(DEFAULT_SET)
    async with db.write() as s:
        org = Organisation(platform="slack", external_id="T0001", name="Council")
        s.add(org)
        await s.flush()
        group = CoreGroup(
            org_id=org.id or 0,
            child_ref="AB-1234",
            registered_on=date(2026, 1, 5),
            facilitator_id="U0000RO",
            channel_id="C0000001",
        )
        s.add(group)
        await s.flush()
        gid = group.id or 0
        s.add(
            Member(
                group_id=gid,
                user_id="U0000RO",
                display_name="Rae Officer",
                agency="Reviewing service",
                role=MemberRole.FACILITATOR,
            )
        )
        people = [
            Member(
                group_id=gid,
                user_id=f"U{m:06d}",
                display_name=f"Practitioner {m:02d}",
                agency=f"Agency {m % 7}",
            )
            for m in range(members)
        ]
        s.add_all(people)
        session = ReflectionSession(
            group_id=gid,
            set_id=qset.id,
            set_version=qset.version,
            opened_by="U0000RO",
            opened_at=CLOSED_AT - timedelta(days=3),
            status=SessionStatus.CLOSED,
            closed_by="U0000RO",
            closed_at=CLOSED_AT,
            family_sharing="The social worker will go through it with Mum on Friday.",
            takeaways="Ask the child directly before the next conference.",
            themes=["parental_engagement", "housing pressure"],
            escalation="Housing delay raised with line managers.",
        )
        s.add(session)
        await s.flush()
        sid = session.id or 0
        for n, person in enumerate(people):
            s.add(
                Participation(
                    session_id=sid,
                    member_id=person.id or 0,
                    state=ParticipationState.DONE,
                    finished_at=CLOSED_AT - timedelta(hours=n + 1),
                    attended=True,
                )
            )
            for i, q in enumerate(qset.questions):
                values = q.choice_values
                choice = values[(n + i) % len(values)] if values else None
                s.add(
                    Answer(
                        session_id=sid,
                        member_id=person.id or 0,
                        question_id=q.id,
                        choice=choice,
                        comment=COMMENT if (n + i) % 3 or not choice else None,
                        answered_at=CLOSED_AT - timedelta(days=1),
                        updated_at=CLOSED_AT - timedelta(days=1),
                        submitted=True,  # everyone here pressed Submit
                        submitted_choice=choice,
                        submitted_comment=COMMENT if (n + i) % 3 or not choice else None,
                    )
                )
        for q in qset.questions:
            s.add(
                AgreedPosition(
                    session_id=sid,
                    question_id=q.id,
                    position=q.choice_values[0] if q.choice_values else None,
                    notes="Agreed after discussion; revisit at the review conference.",
                    key_point=q.kind == "text",
                    recorded_by="U0000RO",
                    recorded_at=CLOSED_AT,
                )
            )
        for a in range(4):
            s.add(
                ActionItem(
                    session_id=sid,
                    group_id=gid,
                    text=f"Action {a + 1}: ask school about attendance and report back.",
                    owner_member_id=people[a].id,
                    due_on=date(2026, 7, 20 + a),
                )
            )
    return sid


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


async def compiled(kind: str, members: int, repeat: int) -> tuple[list[float], RecordView]:
    """build_record's times on one database, and the record it built."""
    async with throwaway_database(kind) as url:
        db = Database(url)
        try:
            await db.create_all()
            sid = await seed(db, members)
            core = build_core(Settings(_env_file=None), db, clock=lambda: CLOSED_AT)
            return await timed_async(functools.partial(build_record, core, sid), repeat)
        finally:
            await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma)")
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    header("Record render and Word export", "bench.record")
    rows: list[list[Any]] = []
    view: RecordView | None = None
    for kind in args.db.split(","):
        times, view = await compiled(kind, args.members, args.repeat)
        answers = sum(len(q.answers) for q in view.questions)
        rows.append(_row(kind, "build_record (database)", times, f"{answers} answers", None))
    assert view is not None
    print(f"{args.members} members × {len(view.questions)} questions", flush=True)
    # Rendering and the Word file read the compiled view only: no database involved.
    targets: tuple[Target, ...] = ("slack", "teams", "markdown", "html")
    for target in targets:
        times, text = timed(functools.partial(render_record, view, target), args.repeat)
        rows.append(_row("—", f"render {target}", times, f"{len(text):,} chars", RENDER_TARGET_MS))
    times, docx = timed(functools.partial(record_docx, view), args.repeat)
    rows.append(_row("—", "Word (.docx)", times, f"{len(docx) // 1024} KiB", WORD_TARGET_MS))
    print()
    print(table(["db", "step", "median ms", "p95 ms", "min ms", "output", "target"], rows))


if __name__ == "__main__":
    asyncio.run(main())
