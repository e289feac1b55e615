"""The clock and the sweep: plan due ledger rows, claim them, send them, record the outcome.

Which rows come due and what they say is up to each kind of delivery in :data:`SWEEP_KINDS`
(``handlers/scheduling/kinds.py``); the sweep only plans, claims, paces and sends.
APScheduler is only the clock: one interval job a process, kept in memory, never two runs at
once. The database is the queue (``storage.ledger``), so several ``coregroup serve`` instances
sharing PostgreSQL each sweep and every nudge still goes out once. The job takes no arguments
worth hiding: it closes over the runtime, and rows carry integer ids only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import audit_anchor
from bot.runtime import Runtime
from bot.transport import Deliverer, DeliveryFailed, PlatformRef, ReplyContext, Transport
from handlers.base.messages import Form, Message
from handlers.governance import retention
from handlers.oversight.digest_sweep import MONTHLY_DIGEST
from handlers.scheduling.deliveries import Decision, Drop, Later, Send, describe, to_delivery
from handlers.scheduling.kinds import SCHEDULING_KINDS, due_deliveries, render
from storage import ledger
from storage.models import Delivery

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "coregroup-sweep"
PACE_SECONDS = 1.0  # at most about one message a second to any one channel or person
NO_TRANSPORT_WAIT = timedelta(minutes=1)
# How long SIGTERM waits for a sweep under way (process managers allow 10-90 s in all).
STOP_GRACE_SECONDS = 20.0

# Every kind of delivery the sweep plans and sends (and a dry run lists).
SWEEP_KINDS = SCHEDULING_KINDS.with_kinds(MONTHLY_DIGEST)


@dataclass
class Outcome:
    """One row's fate in a sweep, for logs and ``coregroup remind``: ids and kinds only."""

    row: str
    result: str  # sent | unconfirmed | would send | later | dropped | retry | dead | no transport


@dataclass
class SweepReport:
    planned: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)


class _Watched:
    """Wraps a platform transport to see what the ``Deliverer`` hides: the platform's reference
    for a sent message and the Retry-After of a refusal. Everything else passes through."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.ref: PlatformRef | None = None
        self.failure: DeliveryFailed | None = None

    async def _watch(self, call: Awaitable[PlatformRef]) -> PlatformRef:
        try:
            ref = await call
        except DeliveryFailed as exc:
            self.failure = exc
            raise
        self.ref = ref
        return ref

    async def post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef:
        return await self._watch(self.inner.post(org, channel_id, message, thread))

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef:
        return await self._watch(self.inner.direct(org, user_id, message))

    async def update(self, org: str, ref: PlatformRef, message: Message) -> PlatformRef | None:
        return await self.inner.update(org, ref, message)

    async def reply(self, ctx: ReplyContext, message: Message) -> None:
        await self.inner.reply(ctx, message)

    async def open_form(self, ctx: ReplyContext, form: Form) -> None:
        await self.inner.open_form(ctx, form)

    async def publish_home(self, org: str, user_id: str, message: Message) -> None:
        await self.inner.publish_home(org, user_id, message)

    async def upload(
        self,
        org: str,
        channel_id: str,
        filename: str,
        content: bytes,
        title: str,
        thread: PlatformRef | None,
    ) -> None:
        await self.inner.upload(org, channel_id, filename, content, title, thread)

    async def direct_upload(
        self, org: str, user_id: str, filename: str, content: bytes, title: str, ref: str
    ) -> None:
        await self.inner.direct_upload(org, user_id, filename, content, title, ref)


class _Pacer:
    """Keeps sends to one channel or person about a second apart."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.last: dict[str, float] = {}

    async def wait(self, key: str) -> None:
        if self.gap <= 0:
            return
        since = time.monotonic() - self.last.get(key, -self.gap)
        if since < self.gap:
            await asyncio.sleep(self.gap - since)
        self.last[key] = time.monotonic()


def _ref_text(ref: PlatformRef | None) -> str | None:
    if not ref:
        return None
    return json.dumps(ref, sort_keys=True, separators=(",", ":"), default=str)[:200]


async def sweep(
    runtime: Runtime,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    pace_seconds: float = PACE_SECONDS,
    batch: int = 50,
) -> SweepReport:
    """One pass: plan what has come due, then claim and send it (or, dry run, list it)."""
    core = runtime.core
    now = now or core.now()
    report = SweepReport()
    if dry_run:
        planned = await due_deliveries(core, now, dry_run=True, kinds=SWEEP_KINDS)
        report.planned = len(planned)
        rows = [to_delivery(p) for p in planned] + await ledger.due_now(core.db, now)
        for row in rows:
            decision = await render(core, row, now, kinds=SWEEP_KINDS)
            result = "would send" if isinstance(decision, Send) else _quiet(decision)
            report.outcomes.append(Outcome(describe(row), result))
        return report

    report.planned = len(await due_deliveries(core, now, kinds=SWEEP_KINDS))
    await _purge_daily(runtime, now)
    await audit_anchor.anchor_daily(runtime, now)  # after the purge, which may add an event
    pacer = _Pacer(pace_seconds)
    limited: dict[str, datetime] = {}  # pace key -> when the platform said to come back
    handled: set[int] = set()
    while True:
        rows = await ledger.claim(core.db, now, limit=batch)
        if not rows or all(row.id in handled for row in rows):
            break
        for row in rows:
            handled.add(row.id or 0)
            result = await _send_one(runtime, row, now, pacer, limited)
            report.outcomes.append(Outcome(describe(row), result))
        if len(rows) < batch:
            break
    return report


async def _purge_daily(runtime: Runtime, now: datetime) -> None:
    """Apply the retention rules once a day per process (the purge is idempotent)."""
    if runtime.purged_on == now.date():
        return
    await retention.purge(runtime.core, now)
    runtime.purged_on = now.date()


def _quiet(decision: Decision) -> str:
    return "later" if isinstance(decision, Later) else "dropped"


async def _send_one(
    runtime: Runtime,
    row: Delivery,
    now: datetime,
    pacer: _Pacer,
    limited: dict[str, datetime],
) -> str:
    core = runtime.core
    try:
        decision = await render(core, row, now, kinds=SWEEP_KINDS)
    except Exception:
        log.exception("could not prepare a delivery", extra={"delivery_id": row.id})
        await ledger.mark_failed(core.db, row, now, "render error")
        return "retry"
    if isinstance(decision, Drop):
        await ledger.cancel(core.db, row)
        return "dropped"
    if isinstance(decision, Later):
        await ledger.release(core.db, row, decision.at)
        return "later"
    if decision.pace_key in limited:
        await ledger.release(core.db, row, limited[decision.pace_key])
        return "later"
    transport = runtime.transports.get(decision.platform)
    if transport is None:
        # This process has no adapter for the platform: leave the row for one that does.
        await ledger.release(core.db, row, now + NO_TRANSPORT_WAIT)
        return "no transport"
    watched = _Watched(transport)
    await pacer.wait(decision.pace_key)
    failures = await Deliverer(core.db, watched).deliver(decision.org_external_id, decision.intents)
    if not failures:
        await ledger.mark_sent(core.db, row, now, _ref_text(watched.ref))
        if row.attempts > 1:
            log.warning("delivery sent after a retry", extra={"delivery_id": row.id})
        return "sent"
    if watched.failure is not None and watched.failure.maybe_sent:
        # A timeout after the request left: sending again could show it twice.
        await ledger.mark_unconfirmed(core.db, row, now, failures[0])
        return "unconfirmed"
    retry_after = watched.failure.retry_after if watched.failure else None
    status = await ledger.mark_failed(core.db, row, now, failures[0], retry_after)
    if retry_after is not None:
        # Later rows for the same channel or person wait too instead of hitting the limit.
        limited[decision.pace_key] = now + timedelta(seconds=max(retry_after, 1.0))
    return "dead" if status == ledger.DEAD else "retry"


class SweepScheduler(AsyncIOScheduler):
    """APScheduler's asyncio scheduler, stopped gracefully: a sweep under way finishes first.

    APScheduler's own shutdown cancels a running coroutine job wherever it is, which can leave
    a database transaction (and on SQLite its connection's thread) open, and the process then
    never exits after SIGTERM.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sweeps_in_flight: set[asyncio.Task[Any]] = set()

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """No new sweeps; wait (up to ``grace_seconds``) for the one under way; then shut down."""
        if self.running:
            self.pause()
        if self.sweeps_in_flight:
            await asyncio.wait(set(self.sweeps_in_flight), timeout=grace_seconds)
        if self.running:
            self.shutdown(wait=False)


def start_scheduler(runtime: Runtime, interval_seconds: int = 60) -> SweepScheduler:
    """Start the one sweep job of this process (call inside the running event loop)."""
    scheduler = SweepScheduler(
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": interval_seconds,
        }
    )

    async def run_sweep() -> None:
        task = asyncio.current_task()
        if task is not None:
            scheduler.sweeps_in_flight.add(task)
        try:
            report = await sweep(runtime)
        except Exception:
            log.exception("scheduler sweep failed")
            return
        finally:
            scheduler.sweeps_in_flight.discard(task)
        if report.outcomes:
            log.info(
                "scheduler sweep",
                extra={
                    "planned": report.planned,
                    "sent": report.count("sent"),
                    "unconfirmed": report.count("unconfirmed"),
                    "retry": report.count("retry"),
                    "dead": report.count("dead"),
                },
            )

    scheduler.add_job(
        run_sweep,
        "interval",
        seconds=interval_seconds,
        id=SWEEP_JOB_ID,
        replace_existing=True,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.start()
    return scheduler
