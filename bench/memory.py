"""Memory that stays flat: RSS of ``coregroup serve`` after many clicks and sweeps (a leak check).

    python -m bench.memory                          # 10,000 clicks, 100 sweeps, PostgreSQL
    python -m bench.memory --clicks 1000 --sweeps 10 --db sqlite

One real ``serve`` process (``bench.sweeping_serve``: the sweep every 0.2 s instead of every
minute) on a throwaway database seeded as for ``bench.clicks``; signed answer clicks in bursts
of ``--burst``, each burst's follow-ups awaited, while the sweeps run. RSS (``VmRSS``) is read
from /proc at start, after a warm-up, after each burst and at the end. Targets: < 150 MB at the
end, growth < 15 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench.clicks import TimedFakeSlack, answer_clicks, fire, seed, wait_for_updates
from bench.common import header, table, throwaway_database, verdict
from bench.instances import rss_mib, start_serve, stop_serve
from storage.db import Database

TARGET_RSS_MB = 150.0
TARGET_GROWTH_MB = 15.0


def sweeps_done(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


async def run(args: argparse.Namespace) -> list[list[object]]:
    fake = TimedFakeSlack()
    await fake.start()
    counter = Path(tempfile.mkdtemp(prefix="cg_mem_")) / "sweeps"
    rows: list[list[object]] = []
    try:
        async with throwaway_database(args.db) as url:
            db = Database(url)
            await db.create_all()
            clickers = await seed(db, args.groups)
            await db.dispose()
            fake.allowed_mentions = {c.user_id for c in clickers}
            serve = await start_serve(
                url,
                fake.api_url,
                module="bench.sweeping_serve",
                BENCH_SWEEP_SECONDS=str(args.sweep_seconds),
                BENCH_SWEEP_COUNT=str(counter),
            )
            try:
                rows = await load(serve, fake, clickers, counter, args)
            finally:
                await stop_serve(serve)
    finally:
        await fake.stop()
    return rows


async def load(serve, fake, clickers, counter, args) -> list[list[object]]:  # type: ignore[no-untyped-def]
    start = rss_mib(serve.pid)
    rows: list[list[object]] = [["start (healthz 200)", 0, sweeps_done(counter), start, 0.0]]
    sent = 0
    offset = 0
    t0 = time.perf_counter()
    while sent < args.clicks or sweeps_done(counter) < args.sweeps:
        n = min(args.burst, max(args.clicks - sent, 0))
        if n:
            since = len(fake.arrived)
            clicks = answer_clicks(clickers, n, offset)
            offset += 1
            await fire([serve.url], clicks, args.concurrency)
            await wait_for_updates(fake, since, n, 300)
            sent += n
        else:
            await asyncio.sleep(0.5)
        if time.perf_counter() - t0 > args.limit:
            print(json.dumps({"stopped": "time limit", "clicks": sent}), flush=True)
            break
        rss = rss_mib(serve.pid)
        rows.append([f"after {sent:,} clicks", sent, sweeps_done(counter), rss, rss - start])
        print(json.dumps({"clicks": sent, "sweeps": sweeps_done(counter), "rss_mib": rss}))
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--db", default="postgres", help="sqlite or postgres")
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--clicks", type=int, default=10_000)
    parser.add_argument("--sweeps", type=int, default=100)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sweep-seconds", type=float, default=0.2)
    parser.add_argument("--limit", type=float, default=1200, help="stop after this many seconds")
    args = parser.parse_args()
    header("Memory of serve", "bench.memory")
    rows = await run(args)
    print()
    print(table(["when", "clicks", "sweeps", "RSS MiB", "growth MiB"], rows))
    end, growth = float(str(rows[-1][3])), float(str(rows[-1][4]))
    after_first = float(str(rows[1][3])) if len(rows) > 2 else end
    print()
    print(
        f"- RSS at the end {end:.1f} MiB ({verdict(end, TARGET_RSS_MB)} < 150 MB); growth since"
        f" start {growth:.1f} MiB ({verdict(growth, TARGET_GROWTH_MB)} < 15 MB); since the first"
        f" burst {end - after_first:.1f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())
