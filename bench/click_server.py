"""The server under test for ``bench.clicks``, in its own process (as in production).

    python -m bench.click_server ours --database-url URL --slack-api URL
    python -m bench.click_server bolt --slack-api URL

``ours`` is ``coregroup serve``'s own wiring (``bot.bootstrap.build_runtime``,
``bot.server.build_web_app`` and, once listening, ``bot.server.freeze_startup_heap``); ``bolt``
is a bare slack-bolt ``AsyncApp`` on the same aiohttp adapter whose only listener acknowledges
(stock: no start-up tuning). Both bind 127.0.0.1 on a free port, print
``PORT <n>`` and serve until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
from typing import Any

from aiohttp import web

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"


def ours(database_url: str, slack_api: str) -> tuple[web.Application, Any]:
    from bot.bootstrap import build_runtime
    from bot.server import build_web_app
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api,
    )
    runtime = build_runtime(settings, platforms=True)
    return build_web_app(runtime), runtime.core.db


def bolt(slack_api: str) -> web.Application:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api),
    )

    @app.action(re.compile(".*"))
    async def acknowledge(ack: Any) -> None:
        await ack()

    return app.web_app(path="/slack/events")


async def serve(kind: str, database_url: str, slack_api: str) -> None:
    db = None
    if kind == "ours":
        app, db = ours(database_url, slack_api)
    else:
        app = bolt(slack_api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    if kind == "ours":
        from bot.server import freeze_startup_heap

        freeze_startup_heap()  # as `coregroup serve` does once listening
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()  # ours drains its acknowledged work on shutdown
    if db is not None:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.click_server")
    parser.add_argument("kind", choices=("ours", "bolt"))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--slack-api", required=True)
    parser.add_argument("--profile", default="", help="write cProfile stats to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not args.profile:
        asyncio.run(serve(args.kind, args.database_url, args.slack_api))
        return
    import cProfile

    with cProfile.Profile() as profile:
        asyncio.run(serve(args.kind, args.database_url, args.slack_api))
    profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
