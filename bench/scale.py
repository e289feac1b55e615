"""Several ``coregroup serve`` instances on one database: ``python -m bench.clicks --instances``.

    python -m bench.clicks --db postgres --instances 1,2 --concurrency 200

For each instance count N: N real ``serve`` processes (``bench.instances``) on one throwaway
database and N bare slack-bolt processes (the floor), signed answer clicks spread round-robin
over the N of each, as a load balancer would, in alternating bursts so both see the same noise.
Afterwards the database and the fake Slack are checked: every click acknowledged, one answer row
for every (member, question) clicked, one ``chat.update`` (follow-up) for every click.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from sqlalchemy import text

from bench.clicks import (
    TARGET_P99_MS,
    Click,
    Run,
    Target,
    TimedFakeSlack,
    _row,
    answer_clicks,
    burst,
    merge,
    seed,
)
from bench.common import summary_ms, throwaway_database, verdict
from storage.db import Database

TARGET_RATIO_SCALED = 1.3


async def answers_stored(url: str) -> int:
    db = Database(url)
    try:
        async with db.read() as s:
            conn = await s.connection()
            return int((await conn.execute(text("SELECT count(*) FROM answer"))).scalar_one())
    finally:
        await db.dispose()


async def one_count(
    n: int,
    url: str,
    fake: TimedFakeSlack,
    clickers: list[Any],
    args: argparse.Namespace,
    first: int,
) -> tuple[Run, Run, list[Click]]:
    """Floor and ours with ``n`` processes each; returns both runs and every click ours got."""
    floor = Target("bolt", url, args, instances=n)
    ours = Target("ours", url, args, instances=n)
    sent: list[Click] = []
    runs: dict[str, list[Run]] = {"bolt": [], "ours": []}
    try:
        for target in (floor, ours):
            await target.start(fake.api_url)
            warm = answer_clicks(clickers, args.warmup, first)
            await burst(target, fake, warm, args)
            if target.kind == "ours":
                sent += warm
        for r in range(args.rounds):
            for target in (floor, ours):
                clicks = answer_clicks(clickers, args.clicks // args.rounds, first + 1 + r)
                runs[target.kind].append(await burst(target, fake, clicks, args))
                if target.kind == "ours":
                    sent += clicks
    finally:
        await floor.stop()
        await ours.stop()
    return merge(runs["bolt"]), merge(runs["ours"]), sent


async def run_scaled(
    args: argparse.Namespace, facts: list[dict[str, int]] | None = None
) -> tuple[list[list[object]], list[str]]:
    """Every instance count on every database asked for; rows for the table and notes.

    ``facts`` (when given) receives, per database, what the checks counted."""
    rows: list[list[object]] = []
    notes: list[str] = []
    ours_runs: list[Run] = []
    counts = [int(n) for n in str(args.instances).split(",")]
    for kind in args.db.split(","):
        fake = TimedFakeSlack()
        await fake.start()
        try:
            async with throwaway_database(kind) as url:
                db = Database(url)
                await db.create_all()
                t0 = time.perf_counter()
                clickers = await seed(db, args.groups)
                await db.dispose()
                fake.allowed_mentions = {c.user_id for c in clickers}
                print(f"{kind}: seeded in {time.perf_counter() - t0:.1f} s", flush=True)
                sent: list[Click] = []
                offset = 0
                for n in counts:
                    floor, ours, clicks = await one_count(n, url, fake, clickers, args, offset)
                    offset += args.rounds + 1
                    sent += clicks
                    ours_runs.append(ours)
                    rows += scaled_rows(kind, n, floor, ours)
                    notes.append(scaled_note(kind, n, floor, ours))
                    print(json.dumps({"db": kind, "note": notes[-1]}), flush=True)
                pairs = {(c.clicker.participation_id, c.question) for c in sent}
                stored = await answers_stored(url)
        finally:
            await fake.stop()
        refused = sum(1 for c in fake.calls if not c.ok)
        if facts is not None:
            facts.append(
                {
                    "sent": len(sent),
                    "pairs": len(pairs),
                    "stored": stored,
                    "not_200": sum(r.failed for r in ours_runs),
                    "missing": sum(r.missing for r in ours_runs),
                    "duplicated": sum(r.extra_updates for r in ours_runs),
                    "apologies": sum(r.apologies for r in ours_runs),
                    "refused": refused,
                }
            )
        notes.append(
            f"{kind}: {len(sent):,} clicks to `serve` in all; answers stored {stored:,} for"
            f" {len(pairs):,} distinct (member, question) clicked"
            f" ({'none lost or duplicated' if stored == len(pairs) else 'MISMATCH'});"
            f" {len(fake.violations)} fake-Slack violations, {refused} refused API calls"
        )
        print(json.dumps({"db": kind, "note": notes[-1]}), flush=True)
    return rows, notes


def scaled_rows(kind: str, n: int, floor: Run, ours: Run) -> list[list[object]]:
    floor_p99 = summary_ms(floor.acks)["p99"]
    label = f"{kind}, {n} instance{'s' if n > 1 else ''}"
    return [_row(floor, None, label), _row(ours, floor_p99, label)]


def scaled_note(kind: str, n: int, floor: Run, ours: Run) -> str:
    p99 = summary_ms(ours.acks)["p99"]
    ratio = p99 / summary_ms(floor.acks)["p99"]
    handled = len(ours.follow) / ours.handled_seconds if ours.handled_seconds else 0.0
    return (
        f"{kind}, {n} instance(s): p99 ack {p99:.1f} ms ({verdict(p99, TARGET_P99_MS)} < 100 ms);"
        f" ratio {ratio:.2f} ({verdict(ratio, TARGET_RATIO_SCALED)} ≤ 1.3);"
        f" {len(ours.acks) - ours.failed:,}/{len(ours.acks):,} acknowledged 200;"
        f" follow-ups: {len(ours.follow):,} delivered, {ours.missing} missing,"
        f" {ours.extra_updates} duplicated; {ours.apologies} apologies;"
        f" handled {handled:.1f} clicks/s"
    )
