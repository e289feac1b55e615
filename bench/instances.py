"""Real ``coregroup serve`` processes for the benchmarks: start N on one database, stop them.

Each instance is ``python -m bot serve --port P`` (P a free loopback port) with its settings in
the environment, exactly as a deployment starts it; the Slack Web API it talks to is the fake
one the benchmark runs. Ready means ``/healthz`` answers 200.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.click_server import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(database_url: str, slack_api: str, **extra: str) -> dict[str, str]:
    """The environment of one instance: this checkout's code, the throwaway database, fake Slack."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "COREGROUP_", "DATABASE_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_api,
        COREGROUP_ENV="development",
        HOST="127.0.0.1",
        **extra,
    )
    return env


@dataclass
class Instance:
    proc: Any
    port: int
    started: float  # perf_counter when the process was launched
    ready: float = 0.0  # perf_counter when /healthz first answered 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def pid(self) -> int:
        return int(self.proc.pid)


async def wait_healthy(port: int, proc: Any, limit: float = 60.0) -> float:
    """Poll /healthz every 10 ms until it answers 200; returns when (perf_counter)."""
    deadline = time.perf_counter() + limit
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() < deadline:
            if proc.returncode is not None:
                raise SystemExit(f"serve on port {port} exited with {proc.returncode}")
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return time.perf_counter()
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.01)
    raise SystemExit(f"serve on port {port} was not ready within {limit:.0f} s")


async def start_serve(
    database_url: str, slack_api: str, *, module: str = "bot", **extra: str
) -> Instance:
    """One ``coregroup serve`` process (``module`` may name a bench wrapper), ready to answer."""
    port = free_port()
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "serve",
        "--port",
        str(port),
        env=serve_env(database_url, slack_api, **extra),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    instance = Instance(proc, port, started)
    try:
        instance.ready = await wait_healthy(port, proc)
    except BaseException:
        await stop_serve(instance)
        raise
    return instance


async def stop_serve(instance: Instance) -> None:
    if instance.proc.returncode is None:
        instance.proc.terminate()
        try:
            await asyncio.wait_for(instance.proc.wait(), 30)
        except TimeoutError:
            instance.proc.kill()
            await instance.proc.wait()


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
