"""``coregroup serve``: the HTTP server (every configured platform, /healthz) in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import typer
from aiohttp import web

from bot import bootstrap
from bot.checks import settings_for_start
from bot.logging import configure_logging
from bot.platforms import registry
from bot.settings import Settings
from bot.sweeper import start_scheduler

log = logging.getLogger(__name__)


async def run_server(settings: Settings, port: int | None = None) -> None:
    from bot.server import build_web_app, freeze_startup_heap

    # A broken question set stops start-up here; configured platforms get their transports.
    runtime = bootstrap.build_runtime(settings, platforms=True)
    app = build_web_app(runtime)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, port if port is not None else settings.port)
    await site.start()

    # One sweep job per process: the clock only; the database ledger is the queue.
    scheduler = start_scheduler(runtime)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, stop.set)

    await registry.start(app)  # e.g. Slack's Socket Mode, connecting in the background
    frozen = freeze_startup_heap()
    log.info("serving", extra={"port": runner.addresses[0][1], "frozen_objects": frozen})
    try:
        await stop.wait()
    finally:
        await scheduler.stop()  # a sweep under way finishes first
        await registry.stop(app)
        await runner.cleanup()
        await runtime.close()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        port: Annotated[
            int | None, typer.Option("--port", help="HTTP port (default: PORT or 3000).")
        ] = None,
    ) -> None:
        """Run the bot: every configured platform's endpoints and /healthz on one HTTP server."""
        configure_logging()  # JSON lines, ids only (bot/logging.py)
        settings = settings_for_start()  # exits 2 on a typo'd env or unsafe production settings
        asyncio.run(run_server(settings, port))
