"""Cold start: ``coregroup serve`` until /healthz answers 200, and a whole ``coregroup demo``.

    python -m bench.coldstart                  # 5 runs of each, PostgreSQL for serve
    python -m bench.coldstart --runs 9 --db sqlite
    python -m bench.coldstart --importtime /tmp/imports.txt   # python -X importtime of serve

Each run is a new process (``python -m bot …``, as a deployment starts it) with the settings in
the environment and a Slack configured (the fake Slack Web API; nothing is called at start).
Reported: the median and range of the runs. Targets: serve ready < 1.5 s, demo < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import header, table, throwaway_database, verdict
from bench.instances import ROOT, Instance, rss_mib, serve_env, start_serve, stop_serve
from storage.db import Database
from tests.fakes.slack_api import FakeSlack

TARGET_SERVE_S = 1.5
TARGET_DEMO_S = 3.0


def cpu_seconds(instance: Instance) -> float:
    """User + system CPU the process has used so far (independent of how busy the machine is)."""
    stat = Path(f"/proc/{instance.pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def serve_times(url: str, api: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"ready": [], "cpu": [], "rss": []}
    for _ in range(runs):
        instance = await start_serve(url, api)
        out["ready"].append(instance.ready - instance.started)
        out["cpu"].append(cpu_seconds(instance))
        out["rss"].append(rss_mib(instance.pid))
        await stop_serve(instance)
    return out


def demo_times(runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"wall": [], "cpu": []}
    env = serve_env("", "")
    env.pop("DATABASE_URL")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out["wall"].append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out["cpu"].append(cpu)
    return out


def import_profile(path: str, url: str, api: str) -> None:
    """``python -X importtime -c 'import bot.commands.serve…'``: what start-up imports cost."""
    code = (
        "from bot.settings import Settings; from bot.bootstrap import build_runtime;"
        "from bot.server import build_web_app;"
        "build_web_app(build_runtime(Settings(), platforms=True))"
    )
    with open(path, "w") as out:
        subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=ROOT,
            env=serve_env(url, api),
            stderr=out,
            check=False,
        )
    print(f"import times written to {path} (sort -t'|' -k2 -n)")


def row(what: str, times: list[float], target: float, extra: str = "") -> list[object]:
    med = statistics.median(times)
    return [
        what,
        len(times),
        med * 1000,
        min(times) * 1000,
        max(times) * 1000,
        f"< {target:.1f} s: {verdict(med, target)}",
        extra,
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="postgres", help="serve's database: sqlite or postgres")
    parser.add_argument("--importtime", default="", help="also write -X importtime to this file")
    args = parser.parse_args()
    header("Cold start", "bench.coldstart")
    fake = await FakeSlack().start()
    try:
        async with throwaway_database(args.db) as url:
            db = Database(url)
            await db.create_all()  # a deployed database has its tables already
            await db.dispose()
            if args.importtime:
                import_profile(args.importtime, url, fake.api_url)
            serve = await serve_times(url, fake.api_url, args.runs)
    finally:
        await fake.stop()
    demo = demo_times(args.runs)
    serve_note = (
        f"CPU (user+sys) median {statistics.median(serve['cpu']) * 1000:,.0f} ms;"
        f" RSS when ready {statistics.median(serve['rss']):.0f} MiB"
    )
    demo_note = f"CPU (user+sys) median {statistics.median(demo['cpu']) * 1000:,.0f} ms"
    print(
        table(
            ["what", "runs", "median ms", "min ms", "max ms", "target", "note"],
            [
                row(
                    f"serve → /healthz 200 ({args.db})", serve["ready"], TARGET_SERVE_S, serve_note
                ),
                row("coregroup demo (whole run)", demo["wall"], TARGET_DEMO_S, demo_note),
            ],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
