"""Sweep scaling: one planning sweep over N core groups, of which K are in their nudging today.

    python -m bench.sweep --db sqlite --groups 1000,10000,100000 --due 100
    python -m bench.sweep --db postgres --groups 100000 --due 100,1000,10000

Groups are bulk-inserted with registration dates spread over eight years. Each date is sorted
beforehand, with the planner's own pure rules (``handlers.scheduling.due``), into "nudging today" or
"quiet today", so the number due is chosen exactly; the sweep must then find those K and
no others. Most groups are "compliant" (their last supervision recorded on its due date), the
rest never held one. The figure that matters: the time of
``handlers.scheduling.kinds.due_deliveries`` and its peak Python memory, as N grows at a fixed K,
and as K grows at a fixed N.

The planner keeps a bookmark per group (``CoreGroup.next_check_on``), so the first sweep after
an upgrade checks every group once. The bench runs that first sweep the day before (timed and
shown as "first sweep"), then times the ordinary daily sweep, checks that exactly the groups
with a nudge today hold a pending one, and measures peak memory on the following day's sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import resource
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from bench.common import header, table, throwaway_database, verdict
from bot.bootstrap import build_core
from bot.settings import Settings
from handlers.scheduling import group_state
from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.due import DEFAULT_RULES, add_months, current_due, held_dates, stage_for
from handlers.scheduling.kinds import due_deliveries
from storage.db import Database
from storage.models import CoreGroup, GroupStatus, Organisation, OrgRole, StaffRole

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning in office hours
YEARS_BACK = 8
ORGS = 20  # a deployment serving twenty local authorities
COMPLIANT_SHARE = 0.85
TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Profile:
    registered_on: date
    last_supervision_on: date | None


def _last_held(registered: date, today: date) -> date | None:
    """A compliant group's last supervision: on the latest occurrence that has come."""
    last = None
    k = 0
    while True:
        day = add_months(registered, DEFAULT_RULES.first_months + k * DEFAULT_RULES.every_months)
        if day > today:
            return last
        last, k = day, k + 1


def nudging_today(p: Profile, today: date, cal: WorkCalendar) -> bool:
    """Whether the planner should want a nudge or a report for this group today."""
    group = CoreGroup(
        org_id=0,
        child_ref="x",
        registered_on=p.registered_on,
        facilitator_id="U",
        channel_id="C",
        last_supervision_on=p.last_supervision_on,
    )
    due = current_due(group, held_dates(group, []), today, DEFAULT_RULES)
    if due is None:
        return False
    rules = DEFAULT_RULES
    report_on = cal.working_day_on_or_after(due.on + timedelta(days=rules.report_after_days))
    if report_on <= today <= due.on + timedelta(days=rules.last_overdue_day + 7):
        return True
    return stage_for(due, today, rules, cal.working_day_on_or_after) is not None


@functools.cache
def profiles(today: date) -> tuple[list[Profile], list[Profile]]:
    """Every (registration date, compliance) of the last eight years: (nudging, quiet)."""
    cal = WorkCalendar()
    nudging: list[Profile] = []
    quiet: list[Profile] = []
    day = today - timedelta(days=365 * YEARS_BACK)
    while day <= today - timedelta(days=7):
        for compliant in (True, False):
            p = Profile(day, _last_held(day, today) if compliant else None)
            (nudging if nudging_today(p, today, cal) else quiet).append(p)
        day += timedelta(days=1)
    return nudging, quiet


def choose(pool: list[Profile], n: int, rng: random.Random) -> list[Profile]:
    """n profiles, compliant ones about COMPLIANT_SHARE of them when the pool has both."""
    compliant = [p for p in pool if p.last_supervision_on is not None]
    lapsed = [p for p in pool if p.last_supervision_on is None]
    out: list[Profile] = []
    for _ in range(n):
        side = compliant if (rng.random() < COMPLIANT_SHARE and compliant) or not lapsed else lapsed
        out.append(rng.choice(side))
    return out


def has_stage_today(p: Profile, today: date, cal: WorkCalendar) -> bool:
    """Whether the group should hold a pending channel nudge today (not a report only)."""
    group = CoreGroup(
        org_id=0,
        child_ref="x",
        registered_on=p.registered_on,
        facilitator_id="U",
        channel_id="C",
        last_supervision_on=p.last_supervision_on,
    )
    due = current_due(group, held_dates(group, []), today, DEFAULT_RULES)
    return due is not None and (
        stage_for(due, today, DEFAULT_RULES, cal.working_day_on_or_after) is not None
    )


async def seed(db: Database, groups: int, due: int, rng: random.Random) -> int:
    """ORGS organisations with a Lead Officer each, then ``groups`` core groups in bulk.

    Returns how many of the groups should hold a channel nudge today."""
    nudging, quiet = profiles(NOW.date())
    chosen = [(p, True) for p in choose(nudging, due, rng)]
    chosen += [(p, False) for p in choose(quiet, groups - due, rng)]
    rng.shuffle(chosen)
    cal = WorkCalendar()
    with_stage = sum(1 for p, d in chosen if d and has_stage_today(p, NOW.date(), cal))
    async with db.write() as s:
        conn = await s.connection()
        await conn.execute(
            insert(Organisation),
            [
                {"platform": "slack", "external_id": f"T{o:04d}", "name": f"Council {o}"}
                for o in range(ORGS)
            ],
        )
        org_ids = [r[0] for r in await conn.execute(text("SELECT id FROM organisation"))]
        await conn.execute(
            insert(StaffRole),
            [{"org_id": o, "user_id": f"ULO{o}", "role": OrgRole.LEAD_OFFICER} for o in org_ids],
        )
    batch = 10_000
    for start in range(0, len(chosen), batch):
        rows: list[dict[str, Any]] = []
        for i, (p, _) in enumerate(chosen[start : start + batch], start=start):
            rows.append(
                {
                    "org_id": org_ids[i % len(org_ids)],
                    "child_ref": f"CP-{i:06d}",
                    "registered_on": p.registered_on,
                    "pre_birth": False,
                    "facilitator_id": f"URO{i % 400:04d}",
                    "channel_id": f"C{i:09d}",
                    "status": GroupStatus.ACTIVE,
                    "timezone": "Europe/London",
                    "schedule_anchor": "registration",
                    "last_supervision_on": p.last_supervision_on,
                    "created_at": NOW - timedelta(days=30),
                }
            )
        async with db.write() as s:
            conn = await s.connection()
            await conn.execute(insert(CoreGroup), rows)
    if db.is_sqlite:
        async with db.write() as s:
            await (await s.connection()).exec_driver_sql("ANALYZE")
    else:
        async with db.write() as s:
            await (await s.connection()).exec_driver_sql("ANALYZE")
    return with_stage


@dataclass
class Result:
    groups: int
    due: int
    planned_nudges: int
    expected_nudges: int
    checked: int
    first_seconds: float
    seconds: float
    peak_mib: float
    rss_delta_mib: float
    seed_seconds: float


async def one(kind: str, groups: int, due: int, seed_value: int) -> Result:
    rng = random.Random(seed_value)
    async with throwaway_database(kind) as url:
        db = Database(url)
        try:
            await db.create_all()
            t0 = time.perf_counter()
            with_stage = await seed(db, groups, due, rng)
            seeded = time.perf_counter() - t0
            core = build_core(Settings(_env_file=None), db, clock=lambda: NOW)
            # Yesterday's sweep: the first after an upgrade, every group checked and bookmarked.
            # (A sweep takes at most group_state.MAX_GROUPS_PER_SWEEP: one a minute until done.)
            t0 = time.perf_counter()
            while True:
                await due_deliveries(core, NOW - timedelta(days=1))
                async with db.read() as s:
                    left = await (await s.connection()).exec_driver_sql(
                        "SELECT COUNT(*) FROM core_group WHERE next_check_on IS NULL"
                    )
                    if not left.scalar_one():
                        break
            first = time.perf_counter() - t0
            async with db.write() as s:  # as autovacuum would have by the next morning
                await (await s.connection()).exec_driver_sql("ANALYZE")
            async with db.read() as s:
                checked = len(await group_state.groups_to_check(s, NOW))
            # Timed run: today's ordinary sweep (writes the ledger rows), nothing else measuring.
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t0 = time.perf_counter()
            await due_deliveries(core, NOW)
            seconds = time.perf_counter() - t0
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            async with db.read() as s:
                conn = await s.connection()
                pending = await conn.exec_driver_sql(
                    "SELECT COUNT(DISTINCT group_id) FROM delivery"
                    " WHERE kind = 'nudge' AND status = 'pending'"
                )
                nudges = int(pending.scalar_one())
            # Memory run: tomorrow's sweep, under tracemalloc.
            tracemalloc.start()
            await due_deliveries(core, NOW + timedelta(days=1))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await db.dispose()
    return Result(
        groups=groups,
        due=due,
        planned_nudges=nudges,
        expected_nudges=with_stage,
        checked=checked,
        first_seconds=first,
        seconds=seconds,
        peak_mib=peak / 2**20,
        rss_delta_mib=(rss_after - rss_before) / 1024,
        seed_seconds=seeded,
    )


def _ints(raw: str) -> list[int]:
    return [int(x.replace("_", "")) for x in raw.split(",") if x.strip()]


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--groups", default="1000,10000", help="comma-separated group counts")
    parser.add_argument("--due", default="100", help="comma-separated counts nudging today")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    header("Sweep scaling", "bench.sweep")
    rows: list[list[object]] = []
    for kind in args.db.split(","):
        for groups in _ints(args.groups):
            for due in _ints(args.due):
                if due > groups:
                    continue
                r = await one(kind, groups, due, args.seed)
                rows.append(
                    [
                        kind,
                        r.groups,
                        r.due,
                        r.expected_nudges,
                        r.planned_nudges,
                        r.checked,
                        r.first_seconds * 1000,
                        r.seconds * 1000,
                        r.peak_mib,
                        r.rss_delta_mib,
                        r.seed_seconds,
                        verdict(r.seconds, TARGET_SECONDS) if groups >= 100_000 else "",
                    ]
                )
                print(
                    f"{kind:8} groups={r.groups:>7,} due={r.due:>6,}"
                    f" nudges={r.planned_nudges:>6,}/{r.expected_nudges:,} checked={r.checked:>6,}"
                    f" first={r.first_seconds * 1000:8.1f} ms"
                    f" sweep={r.seconds * 1000:8.1f} ms peak={r.peak_mib:6.1f} MiB"
                    f" (seeded in {r.seed_seconds:.1f} s)",
                    flush=True,
                )
    print()
    print(
        table(
            [
                "db",
                "groups",
                "nudging today",
                "with a nudge (expected)",
                "pending nudges found",
                "groups checked",
                "first sweeps ms (all)",
                "daily sweep ms",
                "peak MiB (tracemalloc)",
                "maxrss +MiB",
                "seed s",
                "100k target < 1 s",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
