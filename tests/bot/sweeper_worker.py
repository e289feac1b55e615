"""One `coregroup serve`-like instance for the multi-process sweeper test.

Reads an ISO time per line on stdin, runs one sweep as of that time through the real Slack
transport, and answers ``ok <sent>`` — so the test can move both processes' clocks together.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.bootstrap import build_runtime
from bot.settings import Settings
from bot.sweeper import sweep


async def main() -> None:
    runtime = build_runtime(Settings(), platforms=True)
    loop = asyncio.get_running_loop()
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            now = datetime.fromisoformat(line)
            runtime.core.clock = lambda now=now: now
            report = await sweep(runtime, now=now, pace_seconds=0.0)
            print(f"ok {report.count('sent')}", flush=True)
    finally:
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
