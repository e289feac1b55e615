"""Click latency: signed Slack answer clicks over real HTTP, against our server and bare bolt.

    python -m bench.clicks --db sqlite --concurrency 50 --clicks 2000
    python -m bench.clicks --db postgres --groups 200 --concurrency 50 --clicks 2000

A throwaway database is seeded with ``--groups`` core groups of five members each, every one
with an open Appendix 1 session whose members have pressed Start (the rows `/reflect setup`,
`/reflect` and Start leave, inserted in bulk). The server under test runs in its own process
(``bench.click_server``): ``coregroup serve``'s wiring, talking to the fake Slack Web API from
``tests/fakes`` that runs here, in the load generator. ``--concurrency`` clients then send
``--clicks`` signed ``block_actions`` (an answer button, each click another member, round-robin
over every group) and we report:

- **ack**: from sending the request to reading Slack's 200 (the 3-second deadline);
- **follow-up**: from sending the click to the fake Slack receiving the ``chat.update`` that
  shows the member's next question (the work done after the ack).

The same clicks then go to a bare slack-bolt ``AsyncApp`` (same aiohttp adapter and signing
secret) whose listener only acks: our p99 ack divided by its p99 is the framework ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, text

from bench.click_server import SIGNING_SECRET
from bench.common import header, summary_ms, table, throwaway_database, verdict
from bench.instances import Instance, start_serve, stop_serve
from bot.platforms.slack.render import ACTION_SUFFIX
from prompts.loader import DEFAULT_SET, load_catalogue
from storage.db import Database
from storage.models import (
    ConversationRef,
    CoreGroup,
    Member,
    MemberRole,
    MessageRef,
    Organisation,
    OrgRole,
    Participation,
    ParticipationState,
    ReflectionSession,
    StaffRole,
)
from storage.types import utcnow
from tests.fakes.slack_api import FakeSlack, block_actions, encode, signed

TEAM = "T0001"
MEMBERS_PER_GROUP = 5
TARGET_P99_MS = 100.0
TARGET_RATIO = 1.5


# ---- the fake Slack Web API, with arrival times -------------------------------------------------


class TimedFakeSlack(FakeSlack):
    """The tests' fake Slack, noting when each call arrived (same clock as the load)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[tuple[float, str, dict[str, Any]]] = []

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        call = self.calls[-1]  # no await since super() appended it: this is our call
        self.arrived.append((time.perf_counter(), call.method, call.body))
        return response


# ---- seeding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clicker:
    """One member able to answer: who they are and where their question message is."""

    user_id: str
    participation_id: int
    channel: str
    ts: str


async def seed(db: Database, groups: int) -> list[Clicker]:
    """What `/reflect setup`, `/reflect` and every member's Start leave behind, in bulk."""
    now = utcnow()
    qset = load_catalogue().get(DEFAULT_SET)
    version = qset.version
    pinned = [q.model_dump(mode="json") for q in qset.questions]
    async with db.write() as s:
        conn = await s.connection()
        await conn.execute(insert(Organisation), [{"platform": "slack", "external_id": TEAM}])
        org_id = (await conn.execute(text("SELECT id FROM organisation"))).scalar_one()
        await conn.execute(
            insert(StaffRole), [{"org_id": org_id, "user_id": "U0ADMIN", "role": OrgRole.ADMIN}]
        )
        await conn.execute(
            insert(CoreGroup),
            [
                {
                    "org_id": org_id,
                    "child_ref": f"AB-{g:04d}",
                    "registered_on": (now - timedelta(days=90)).date(),
                    "facilitator_id": f"U{g:05d}RO",
                    "channel_id": f"C{g:08d}",
                    "status": "active",
                    "timezone": "Europe/London",
                    "schedule_anchor": "registration",
                    "created_at": now,
                }
                for g in range(groups)
            ],
        )
        found = await conn.execute(text("SELECT channel_id, id FROM core_group"))
        group_ids: dict[str, int] = {str(k): int(v) for k, v in found.all()}
        members: list[dict[str, Any]] = []
        for g in range(groups):
            gid = group_ids[f"C{g:08d}"]
            members.append(
                {
                    "group_id": gid,
                    "user_id": f"U{g:05d}RO",
                    "display_name": f"RO {g}",
                    "agency": "Reviewing Officer",
                    "role": MemberRole.FACILITATOR,
                    "active": True,
                }
            )
            members += [
                {
                    "group_id": gid,
                    "user_id": f"U{g:05d}M{m}",
                    "display_name": f"Member {g}.{m}",
                    "agency": f"Agency {m}",
                    "role": MemberRole.MEMBER,
                    "active": True,
                }
                for m in range(MEMBERS_PER_GROUP)
            ]
        await conn.execute(insert(Member), members)
        await conn.execute(
            insert(ReflectionSession),
            [
                {
                    "group_id": gid,
                    "set_id": DEFAULT_SET,
                    "set_version": version,
                    "status": "open",
                    "opened_by": f"U{g:05d}RO",
                    "opened_at": now,
                    "closes_at": now + timedelta(hours=72),
                    "themes": [],
                    "record_final": False,
                    "questions": pinned,  # the questions the session opened with
                }
                for g, gid in enumerate(group_ids[f"C{g:08d}"] for g in range(groups))
            ],
        )
        sessions: dict[int, int] = dict(
            (await conn.execute(text("SELECT group_id, id FROM reflection_session"))).all()
        )
        rows = (
            await conn.execute(text("SELECT id, group_id, user_id, role FROM member ORDER BY id"))
        ).all()
        answering = [
            {
                "session_id": sessions[group_id],
                "member_id": member_id,
                "state": ParticipationState.ANSWERING,
                "position": None,  # the first question
                "started_at": now,
                "updated_at": now,
                "version": 1,
            }
            for member_id, group_id, _, role in rows
            if role == MemberRole.MEMBER
        ]
        await conn.execute(insert(Participation), answering)
        parts = (
            await conn.execute(
                text(
                    "SELECT p.id, m.user_id FROM participation p"
                    " JOIN member m ON m.id = p.member_id ORDER BY p.id"
                )
            )
        ).all()
        clickers = [Clicker(user, pid, "D" + user, f"1700000000.{pid:06d}") for pid, user in parts]
        await conn.execute(
            insert(MessageRef),
            [
                {
                    "platform": "slack",
                    "key": f"dlg:{c.participation_id}",
                    "ref": {"channel": c.channel, "ts": c.ts},
                    "updated_at": now,
                }
                for c in clickers
            ]
            + [
                {
                    "platform": "slack",
                    "key": f"progress:{sid}",
                    "ref": {"channel": f"C{n:08d}", "ts": f"1600000000.{n:06d}"},
                    "updated_at": now,
                }
                for n, sid in enumerate(sessions.values())
            ],
        )
        await conn.execute(
            insert(ConversationRef),
            [
                {
                    "platform": "slack",
                    "org_external_id": TEAM,
                    "target": f"dm:{c.user_id}",
                    "data": {"channel": c.channel},
                    "updated_at": now,
                }
                for c in clickers
            ],
        )
    # Members of one group are next to each other; interleave groups so that neighbouring
    # clicks land on different groups, as real traffic would.
    by_group: dict[int, list[Clicker]] = defaultdict(list)
    for i, c in enumerate(clickers):
        by_group[i // MEMBERS_PER_GROUP].append(c)
    return [by_group[g][m] for m in range(MEMBERS_PER_GROUP) for g in sorted(by_group)]


# ---- the load ---------------------------------------------------------------------------------


@dataclass
class Click:
    clicker: Clicker
    body: bytes
    headers: dict[str, str]
    sent: float = 0.0
    acked: float = 0.0
    status: int = 0
    question: str = ""


def answer_clicks(clickers: list[Clicker], n: int, round_offset: int) -> list[Click]:
    """n signed answer clicks: member after member, a later question each round."""
    questions = [q for q in load_catalogue().get(DEFAULT_SET).questions if q.choice_values]
    clicks: list[Click] = []
    for k in range(n):
        c = clickers[k % len(clickers)]
        q = questions[(k // len(clickers) + round_offset) % len(questions)]
        j = k % len(q.choice_values)
        action_id = "dlg.answer" + (f"{ACTION_SUFFIX}{j}" if j else "")
        value = f"{c.participation_id}:{q.id}:{q.choice_values[j]}"
        payload = block_actions(
            action_id, value, user=c.user_id, channel=c.channel, message_ts=c.ts
        )
        body, content_type = encode(payload)
        headers = signed(SIGNING_SECRET, body, content_type=content_type)
        clicks.append(Click(c, body.encode(), headers, question=q.id))
    return clicks


async def fire(urls: str | list[str], clicks: list[Click], concurrency: int) -> float:
    """Send every click with ``concurrency`` clients at once, spread round-robin over ``urls``
    (as a load balancer would; one URL is fine); returns the wall time."""
    if isinstance(urls, str):
        urls = [urls]
    queue = iter(enumerate(clicks))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client() -> None:
            for k, click in queue:
                url = urls[k % len(urls)]
                click.sent = time.perf_counter()
                async with http.post(url, data=click.body, headers=click.headers) as resp:
                    await resp.read()
                    click.status = resp.status
                click.acked = time.perf_counter()

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return time.perf_counter() - start


def follow_ups(fake: TimedFakeSlack, clicks: list[Click], since: int) -> list[float | None]:
    """For each click, the time until its member's message was updated (in order per member)."""
    updates: dict[tuple[str, str], list[float]] = defaultdict(list)
    for at, method, body in fake.arrived[since:]:
        if method == "chat.update":
            updates[(str(body.get("channel")), str(body.get("ts")))].append(at)
    cursor: dict[tuple[str, str], int] = defaultdict(int)
    out: list[float | None] = []
    for click in sorted(clicks, key=lambda c: c.sent):
        key = (click.clicker.channel, click.clicker.ts)
        seen = updates.get(key, [])
        i = cursor[key]
        cursor[key] += 1
        out.append(seen[i] - click.sent if i < len(seen) else None)
    return out


async def wait_for_updates(fake: TimedFakeSlack, since: int, wanted: int, limit: float) -> None:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        got = sum(1 for _, m, _ in fake.arrived[since:] if m == "chat.update")
        if got >= wanted:
            return
        await asyncio.sleep(0.05)


# ---- one target ---------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    acks: list[float]
    follow: list[float] = field(default_factory=list)
    missing: int = 0
    failed: int = 0
    apologies: int = 0
    extra_updates: int = 0  # follow-ups delivered more than once
    seconds: float = 0.0  # sending the clicks and reading the acks
    handled_seconds: float = 0.0  # first click sent to last follow-up received


async def start_server(
    kind: str, database_url: str, api_url: str, profile: str = "", source: str = ""
) -> tuple[Any, str]:
    """Start ``bench.click_server``; ``source`` runs it from another checkout (before/after)."""
    extra = ["--profile", profile] if profile else []
    env = dict(os.environ, PYTHONPATH=source) if source else None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.click_server",
        kind,
        "--database-url",
        database_url,
        "--slack-api",
        api_url,
        *extra,
        stdout=asyncio.subprocess.PIPE,
        cwd=source or None,
        env=env,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"{kind} server did not start")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/slack/events"


async def stop_server(proc: Any) -> None:
    proc.terminate()
    await proc.wait()


class Target:
    """One server under test: ``instances`` processes of it (0: the in-bench wiring of
    ``bench.click_server``, sampled by py-spy when asked; N: N real ``coregroup serve``
    processes on one database for ours, N bare-bolt processes for the floor)."""

    def __init__(
        self, kind: str, database_url: str, args: argparse.Namespace, instances: int = 0
    ) -> None:
        self.kind = kind
        self.database_url = database_url
        self.args = args
        self.instances = instances
        self.proc: Any = None
        self.spy: Any = None
        self.urls: list[str] = []
        self.serving: list[Instance] = []
        self.floors: list[Any] = []

    async def start(self, api_url: str) -> None:
        if self.instances:
            await self._start_many(api_url)
            return
        db = args_db(self.database_url)
        profile = f"{self.args.profile}.{self.kind}.{db}.prof" if self.args.profile else ""
        self.proc, url = await start_server(
            self.kind, self.database_url, api_url, profile, self.args.server_src
        )
        self.urls = [url]
        if self.args.py_spy and self.kind == "ours":
            # py-spy writes its file when the server exits.
            self.spy = await asyncio.create_subprocess_exec(
                *("py-spy", "record", "--pid", str(self.proc.pid), "--format", "raw"),
                *("-o", f"{self.args.py_spy}.{db}.txt", "--rate", "200"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )

    async def _start_many(self, api_url: str) -> None:
        for _ in range(self.instances):
            if self.kind == "ours":
                instance = await start_serve(self.database_url, api_url)
                self.serving.append(instance)
                self.urls.append(instance.url)
            else:
                proc, url = await start_server("bolt", "", api_url)
                self.floors.append(proc)
                self.urls.append(url)

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_server(self.proc)
        for proc in self.floors:
            await stop_server(proc)
        for instance in self.serving:
            await stop_serve(instance)
        if self.spy is not None:
            await self.spy.wait()


async def burst(
    target: Target, fake: TimedFakeSlack, clicks: list[Click], args: argparse.Namespace
) -> Run:
    """Fire the clicks; for our server, wait until every follow-up has reached Slack."""
    since = len(fake.arrived)
    posts_before = len(fake.of("chat.postMessage"))
    seconds = await fire(target.urls, clicks, args.concurrency)
    run = Run(target.kind, [c.acked - c.sent for c in clicks], seconds=seconds)
    run.failed = sum(1 for c in clicks if c.status != 200)
    if target.kind == "ours":
        await wait_for_updates(fake, since, len(clicks), args.follow_up_timeout)
        done = follow_ups(fake, clicks, since)
        run.follow = [d for d in done if d is not None]
        run.missing = sum(1 for d in done if d is None)
        run.apologies = len(fake.of("chat.postMessage")) - posts_before
        if target.instances:  # a late duplicate would arrive after the last expected one
            await asyncio.sleep(args.settle)
            got = sum(1 for _, m, _ in fake.arrived[since:] if m == "chat.update")
            run.extra_updates = max(0, got - len(clicks))
        last = max((c.sent + d for c, d in zip(clicks, done, strict=True) if d), default=0.0)
        run.handled_seconds = last - min(c.sent for c in clicks)
    return run


def merge(runs: list[Run]) -> Run:
    out = Run(runs[0].name, [])
    for r in runs:
        out.acks += r.acks
        out.follow += r.follow
        out.missing += r.missing
        out.failed += r.failed
        out.apologies += r.apologies
        out.extra_updates += r.extra_updates
        out.seconds += r.seconds
        out.handled_seconds += r.handled_seconds
    return out


async def compare(
    url: str, fake: TimedFakeSlack, clickers: list[Clicker], args: argparse.Namespace
) -> tuple[Run, Run]:
    """Bare bolt and our server, alternating bursts so both see the same machine noise."""
    floor, ours = Target("bolt", url, args), Target("ours", url, args)
    try:
        for target in (floor, ours):
            await target.start(fake.api_url)
            await burst(target, fake, answer_clicks(clickers, args.warmup, 0), args)  # warm-up
        runs: dict[str, list[Run]] = {"bolt": [], "ours": []}
        for r in range(args.rounds):
            for target in (floor, ours):
                clicks = answer_clicks(clickers, args.clicks // args.rounds, 1 + r)
                runs[target.kind].append(await burst(target, fake, clicks, args))
    finally:
        await floor.stop()
        await ours.stop()
    return merge(runs["bolt"]), merge(runs["ours"])


def args_db(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def _row(run: Run, floor_p99: float | None, db: str) -> list[object]:
    ack = summary_ms(run.acks)
    follow = summary_ms(run.follow) if run.follow else None
    ratio = ack["p99"] / floor_p99 if floor_p99 else None
    return [
        db,
        "bare slack-bolt (ack only)" if run.name == "bolt" else "coregroup serve",
        len(run.acks),
        len(run.acks) / run.seconds,
        ack["p50"],
        ack["p99"],
        ack["max"],
        follow["p50"] if follow else "—",
        follow["p99"] if follow else "—",
        len(run.follow) / run.handled_seconds if run.handled_seconds else "—",
        f"{ratio:.2f}" if ratio is not None else "1 (floor)",
        run.failed + run.missing + run.apologies,
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clicks", description=__doc__)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma)")
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="alternating bursts per server")
    parser.add_argument("--server-src", default="", help="run the servers from this checkout")
    parser.add_argument("--follow-up-timeout", type=float, default=120.0)
    parser.add_argument("--py-spy", default="", help="sample our server with py-spy to PREFIX")
    parser.add_argument("--profile", default="", help="cProfile each server to PREFIX.*.prof")
    parser.add_argument(
        "--instances",
        default="",
        help="e.g. 1,2: that many real `coregroup serve` processes on one database (and as many"
        " bare-bolt floors), clicks spread round-robin; checks no answer is lost or duplicated",
    )
    parser.add_argument("--settle", type=float, default=1.0, help="wait for late duplicates (s)")
    args = parser.parse_args()
    header("Click latency", "bench.clicks")
    rows: list[list[object]] = []
    notes: list[str] = []
    if args.instances:
        from bench.scale import run_scaled

        rows, notes = await run_scaled(args)
    for kind in args.db.split(",") if not args.instances else []:
        fake = TimedFakeSlack()
        await fake.start()
        try:
            async with throwaway_database(kind) as url:
                db = Database(url)
                await db.create_all()
                t0 = time.perf_counter()
                clickers = await seed(db, args.groups)
                await db.dispose()
                fake.allowed_mentions = {c.user_id for c in clickers}
                print(
                    f"{kind}: seeded {args.groups} groups, {len(clickers)} members answering"
                    f" in {time.perf_counter() - t0:.1f} s",
                    flush=True,
                )
                floor, ours = await compare(url, fake, clickers, args)
        finally:
            await fake.stop()
        floor_p99 = summary_ms(floor.acks)["p99"]
        rows += [_row(floor, None, kind), _row(ours, floor_p99, kind)]
        ours_p99 = summary_ms(ours.acks)["p99"]
        notes.append(
            f"{kind}: p99 ack {ours_p99:.1f} ms ({verdict(ours_p99, TARGET_P99_MS)} < 100 ms);"
            f" ratio {ours_p99 / floor_p99:.2f} ({verdict(ours_p99 / floor_p99, TARGET_RATIO)}"
            f" ≤ 1.5); {ours.missing} follow-ups missing, {ours.failed} non-200,"
            f" {ours.apologies} apologies, {len(fake.violations)} fake-Slack violations,"
            f" {sum(1 for c in fake.calls if not c.ok)} refused API calls"
        )
        print(json.dumps({"db": kind, "note": notes[-1]}), flush=True)
    print()
    print(
        table(
            [
                "db",
                "server",
                "clicks",
                "acks/s",
                "ack p50 ms",
                "ack p99 ms",
                "ack max ms",
                "follow-up p50 ms",
                "follow-up p99 ms",
                "handled/s",
                "p99 / floor",
                "errors",
            ],
            rows,
        )
    )
    print()
    for note in notes:
        print("- " + note)


if __name__ == "__main__":
    asyncio.run(main())
