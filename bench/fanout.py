"""Record fan-out: from the facilitator's Send (close) to the last of 21 destinations.

    python -m bench.fanout                       # Slack and Teams, 20 members, PostgreSQL
    python -m bench.fanout --platforms slack --members 20 --db sqlite

One open Appendix 1 session of ``--members`` members who answered every question is seeded
(``bench.record``'s record). The facilitator's close form is then handled exactly as the
platform adapter hands it over (``Runtime.dispatch``: handler, then delivery through the real
transport) and we time, per destination (the channel's thread and each member's DM), when its
last record message arrived at the fake platform. The fakes enforce a per-conversation rate
limit and answer 429 with ``Retry-After`` beyond it: Slack about one message a second per
channel, Teams its documented 7 a second / 8 in two seconds per conversation. Target: the last
destination within 10 s, every destination complete, no 429 left unhandled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bench.common import header, table, throwaway_database, verdict
from bench.record import seed
from bot.bootstrap import build_runtime
from bot.runtime import Runtime
from bot.settings import Settings
from bot.transport import ReplyContext
from handlers.base.events import Actor, FormSubmit
from handlers.reflection.close_form import CLOSE_FORM
from prompts.loader import DEFAULT_SET, load_catalogue
from storage.db import Database
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlack

TARGET_S = 10.0
FACILITATOR = "U0000RO"
SLACK_MESSAGES = {"chat.postMessage", "files.completeUploadExternal"}


class Limiter:
    """Sliding-window limits per conversation: ``rules`` are (messages, seconds)."""

    def __init__(self, rules: list[tuple[int, float]]) -> None:
        self.rules = rules
        self.seen: dict[str, list[float]] = defaultdict(list)
        self.refused = 0

    def admit(self, where: str) -> float | None:
        """None when the message may go now; otherwise the seconds to wait (Retry-After)."""
        now = time.perf_counter()
        times = self.seen[where]
        for count, window in self.rules:
            recent = [t for t in times if now - t < window]
            if len(recent) >= count:
                self.refused += 1
                return max(0.1, window - (now - recent[-count]))
        times.append(now)
        return None


class LimitedSlack(FakeSlack):
    """The tests' fake Slack, refusing a second message in a channel within the second."""

    def __init__(self) -> None:
        super().__init__()
        self.limiter = Limiter([(1, 0.95)])  # Slack: ~1 a second, a little slack for jitter
        self.arrived: dict[str, list[float]] = defaultdict(list)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in SLACK_MESSAGES:
            body = await self._parse(request)
            where = str(body.get("channel") or body.get("channel_id") or "")
            wait = self.limiter.admit(where)
            if wait is not None:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            response = await super()._api(request)
            self.arrived[where].append(time.perf_counter())
            return response
        return await super()._api(request)


class LimitedConnector(FakeBotConnector):
    """The tests' fake Bot Connector with Teams' per-conversation limits."""

    def __init__(self) -> None:
        super().__init__()
        self.limiter = Limiter([(7, 1.0), (8, 2.0), (60, 30.0)])
        self.arrived: dict[str, list[float]] = defaultdict(list)

    async def _handle(self, request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and "activities" in parts:
            where = parts[2].split(";")[0]
            wait = self.limiter.admit(where)
            if wait is not None:
                return web.json_response(
                    {"error": {"code": "TooManyRequests"}},
                    status=429,
                    headers={"Retry-After": f"{wait:.2f}"},
                )
            response = await super()._handle(request)
            self.arrived[where].append(time.perf_counter())
            return response
        return await super()._handle(request)


async def prepare(db: Database, members: int, platform: str, tenant: str) -> int:
    """The record's session, re-opened so the facilitator can close it now."""
    sid = await seed(db, members)
    async with db.write() as s:
        conn = await s.connection()
        await conn.execute(
            text(
                "UPDATE reflection_session SET status = 'open', closed_at = NULL,"
                " closed_by = NULL, record_final = false"
            )
        )
        await conn.execute(text("DELETE FROM agreed_position"))  # the close form records them
        await conn.execute(
            text("UPDATE organisation SET platform = :p, external_id = :t"),
            {"p": platform, "t": tenant},
        )
    return sid


def close_event(platform: str, org: str, sid: int) -> FormSubmit:
    values: dict[str, Any] = {"family_sharing": "The social worker will share it on Friday."}
    # The group agrees a position on every Yes/No question (a split view needs one).
    for q in load_catalogue().get(DEFAULT_SET).questions:
        if q.choice_values:
            values[f"pos_{q.id}"] = q.choice_values[0]
    return FormSubmit(Actor(platform, org, FACILITATOR), CLOSE_FORM, values, state=str(sid))


async def teams_refs(runtime: Runtime, tenant: str, service: str) -> None:
    """What installing the app in the tenant and the group's team leaves behind."""
    from bot.platforms.teams.refs import TENANT_TARGET, ReferenceStore

    refs = ReferenceStore(runtime.core.db)
    await refs.merge(tenant, TENANT_TARGET, {"service_url": service, "bot_id": "28:bench-bot"})
    await refs.merge(tenant, "C0000001", {"service_url": service})


async def one_run(platform: str, kind: str, members: int) -> dict[str, Any]:
    fake: Any = LimitedSlack() if platform == "slack" else LimitedConnector()
    await fake.start()
    try:
        async with throwaway_database(kind) as url:
            org = "T0001" if platform == "slack" else "tenant-bench"
            settings = bench_settings(platform, url, fake)
            db = Database(url)
            await db.create_all()
            sid = await prepare(db, members, platform, org)
            await db.dispose()
            runtime = build_runtime(settings, platforms=True)
            try:
                if platform == "teams":
                    await teams_refs(runtime, org, fake.url)
                ctx = ReplyContext(org, FACILITATOR, "C0000001")
                start = time.perf_counter()
                await runtime.dispatch(close_event(platform, org, sid), ctx)
                done = time.perf_counter()
            finally:
                await runtime.close()
    finally:
        await fake.stop()
    return outcome(platform, kind, members, fake, start, done)


def bench_settings(platform: str, url: str, fake: Any) -> Settings:
    if platform == "slack":
        return Settings(
            _env_file=None,
            database_url=url,
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_url=fake.api_url,
        )
    return Settings(
        _env_file=None,
        database_url=url,
        microsoft_app_id=None,  # no tokens: nothing may leave this machine
        microsoft_app_password=None,
        teams_allow_unauthenticated=True,
        teams_extra_service_hosts=fake.host,
    )


def outcome(
    platform: str, kind: str, members: int, fake: Any, start: float, done: float
) -> dict[str, Any]:
    lasts = sorted(times[-1] - start for times in fake.arrived.values())
    counts = sorted(len(times) for times in fake.arrived.values())
    return {
        "platform": platform,
        "db": kind,
        "destinations": len(lasts),
        "expected": members + 1,
        "messages": sum(counts),
        "per destination": f"{counts[0]}–{counts[-1]}" if counts else "0",
        "first done s": lasts[0] if lasts else float("nan"),
        "last done s": lasts[-1] if lasts else float("nan"),
        "handled s": done - start,
        "429 answered": fake.limiter.refused,
        "violations": len(fake.violations),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--platforms", default="slack,teams")
    parser.add_argument("--db", default="postgres", help="sqlite or postgres")
    parser.add_argument("--members", type=int, default=20)
    args = parser.parse_args()
    header("Record fan-out", "bench.fanout")
    results = []
    for platform in args.platforms.split(","):
        results.append(await one_run(platform, args.db, args.members))
        print(json.dumps(results[-1], default=str), flush=True)
    print()
    print(table(list(results[0]), [list(r.values()) for r in results]))
    print()
    for r in results:
        complete = r["destinations"] >= r["expected"]
        print(
            f"- {r['platform']}: last of {r['destinations']}/{r['expected']} destinations after"
            f" {r['last done s']:.1f} s ({verdict(r['last done s'], TARGET_S)} < 10 s);"
            f" {'every destination reached' if complete else 'DESTINATIONS MISSING'};"
            f" {r['429 answered']} answered 429 and retried"
        )


if __name__ == "__main__":
    asyncio.run(main())
