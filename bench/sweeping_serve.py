"""``coregroup serve`` with its sweep every ``BENCH_SWEEP_SECONDS`` instead of every minute.

    BENCH_SWEEP_SECONDS=0.2 BENCH_SWEEP_COUNT=/tmp/n python -m bench.sweeping_serve serve --port P

For ``bench.memory`` only: a hundred sweeps in seconds, in the real server process (same
bootstrap, routes and scheduler). After each sweep the number done so far is written to the
file ``BENCH_SWEEP_COUNT``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bot.commands.serve as serve_command
import bot.sweeper as sweeper
from bot.cli import main

INTERVAL = float(os.environ.get("BENCH_SWEEP_SECONDS", "0.2"))
COUNT_FILE = os.environ.get("BENCH_SWEEP_COUNT", "")
_real_sweep = sweeper.sweep
_done = 0


async def _counted_sweep(*args: Any, **kwargs: Any) -> Any:
    global _done
    report = await _real_sweep(*args, **kwargs)
    _done += 1
    if COUNT_FILE:
        Path(COUNT_FILE).write_text(str(_done))
    return report


def _often(runtime: Any) -> Any:
    scheduler = sweeper.start_scheduler(runtime)
    job = scheduler.get_job(sweeper.SWEEP_JOB_ID)
    job.reschedule("interval", seconds=INTERVAL)  # APScheduler's grace time must stay whole
    return scheduler


sweeper.sweep = _counted_sweep  # type: ignore[assignment]
serve_command.start_scheduler = _often  # type: ignore[assignment]

if __name__ == "__main__":
    main()
