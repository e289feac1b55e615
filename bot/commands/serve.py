"""``coregroup serve``: the HTTP server (Slack, Teams, /healthz) in one asyncio process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import typer
from aiohttp import web

from bot import bootstrap
from bot.logging import configure_logging
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from bot.sweeper import start_scheduler

log = logging.getLogger(__name__)


def build_runtime(settings: Settings) -> Runtime:
    """The shared runtime plus the platform transports that are configured."""
    from bot.platforms.slack.app import make_transport, slack_configured

    runtime = bootstrap.build_runtime(settings)  # a broken question set stops start-up here
    if slack_configured(settings):
        runtime.add_transport(make_transport(runtime))
    return runtime


async def run_server(settings: Settings, port: int | None = None) -> None:
    from bot.server import SLACK_KEY, build_web_app, freeze_startup_heap

    runtime = build_runtime(settings)
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

    socket_mode = connecting = None
    if settings.slack_app_token and SLACK_KEY in app:
        socket_mode = app[SLACK_KEY].socket_mode(settings.slack_app_token)
        # In the background: while Slack is unreachable the client keeps retrying, and the
        # server must still answer /healthz and stop cleanly on SIGTERM meanwhile.
        connecting = asyncio.ensure_future(socket_mode.connect_async())

    frozen = freeze_startup_heap()
    log.info("serving", extra={"port": runner.addresses[0][1], "frozen_objects": frozen})
    try:
        await stop.wait()
    finally:
        await scheduler.stop()  # a sweep under way finishes first
        if connecting is not None and not connecting.done():
            connecting.cancel()
        if socket_mode is not None:
            await socket_mode.close_async()
        await runner.cleanup()
        await runtime.core.db.dispose()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        port: Annotated[
            int | None, typer.Option("--port", help="HTTP port (default: PORT or 3000).")
        ] = None,
    ) -> None:
        """Run the bot: Slack and Teams endpoints and /healthz on one HTTP server."""
        configure_logging()  # JSON lines, ids only (bot/logging.py)
        settings = get_settings()
        problem = unsafe_for_production(settings)
        if problem:
            typer.echo(problem, err=True)
            raise typer.Exit(code=2)
        asyncio.run(run_server(settings, port))


def unsafe_for_production(settings: Settings) -> str | None:
    """Why this configuration must not serve real data, when COREGROUP_ENV=production."""
    if settings.coregroup_env.strip().lower() != "production":
        return None
    if settings.teams_allow_unauthenticated:
        return (
            "Refusing to start: TEAMS_ALLOW_UNAUTHENTICATED is on and COREGROUP_ENV=production. "
            "Unauthenticated Teams requests are for local development only; turn it off."
        )
    return None
