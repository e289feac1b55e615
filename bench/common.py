"""What every benchmark shares: throwaway databases, percentiles, tables and the machine.

Benchmarks print figures and compare them with their targets; they never fail a build.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg

from tests.factories.databases import throwaway_postgres

PG_ADMIN = os.environ.get("COREGROUP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def throwaway_database(kind: str) -> AsyncIterator[str]:
    """A URL of an empty database that is deleted afterwards (SQLite file or PostgreSQL db)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cg_bench_") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    if kind != "postgres":
        raise SystemExit(f"--db must be sqlite or postgres, not {kind!r}")
    with throwaway_postgres("cg_bench", PG_ADMIN) as url:
        yield url


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank), so p99 of 2,000 samples is the 1,980th."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of durations given in seconds, in milliseconds."""
    return {
        "p50": percentile(values, 50) * 1000,
        "p90": percentile(values, 90) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": (max(values) if values else float("nan")) * 1000,
        "mean": (statistics.fmean(values) if values else float("nan")) * 1000,
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pasted as is into docs/performance.md)."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value: float, target: float) -> str:
    return "meets target" if value < target else "MISSES target"


def machine() -> str:
    """One line describing where the figures were taken."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}){mem}, Python {platform.python_version()}"
        f" on {platform.system()}{load}"
    )


def postgres_version() -> str:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {row[0]}" if row else "PostgreSQL ?"
    except psycopg.OperationalError:
        return "PostgreSQL unreachable"


def header(title: str, module: str) -> None:
    print(f"## {title}")
    print(f"machine: {machine()}; {postgres_version()}")
    print(f"command: python -m {' '.join([module, *sys.argv[1:]])}")
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        rev = ""
    if rev:
        print(f"commit: {rev}")
    print()
