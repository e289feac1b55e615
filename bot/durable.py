"""Durable inbound work: what an adapter acknowledged is in the database until it is handled.

Before answering the platform, an adapter calls :meth:`InboundQueue.put` (one small INSERT, with
the dedupe key in the same transaction), then handles the delivery in memory as before and calls
:meth:`InboundQueue.done`. A worker in every process (:meth:`InboundQueue.run`) takes rows whose
lease ran out — work acknowledged by a process that died — and hands them to the adapter's same
handling path. On SQLite, where one process is the only writer, everything left over is taken at
start-up. The payload is the neutral event as JSON plus the adapter's reply context, sealed with
the same key as answers (``storage.types.SealedText``).

Semantics: at least once. A process that dies after the handler saved its change but before
the row was deleted has that delivery handled again by the next one; the handlers already
treat a repeated click as a no-op or a kind "already done" reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar

from handlers.base.events import (
    Actor,
    Command,
    Event,
    FormSubmit,
    HomeOpened,
    Joined,
    Press,
    TypedText,
)
from storage import crypto
from storage import inbound_work as work
from storage.db import Database

log = logging.getLogger(__name__)

_EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Command, Press, FormSubmit, TypedText, Joined, HomeOpened)
}
# A delivery that keeps killing or failing its handler is dropped (and logged) after this many.
MAX_TAKES = 5
TAKE_BATCH = 20
BATCH = 200  # deliveries kept (or cleared) in one transaction at most


class UnreadablePayload(Exception):
    """A stored payload that is not one this code wrote (or cannot be unsealed)."""


def encode(event: Event, reply: dict[str, Any]) -> str:
    """The event and its reply context as JSON (sealed on write by the column type)."""
    body = {"type": type(event).__name__, "event": dataclasses.asdict(event), "reply": reply}
    return json.dumps(body, separators=(",", ":"))


def decode(text: str) -> tuple[Event, dict[str, Any]]:
    try:
        body = json.loads(text)
        cls = _EVENT_TYPES[body["type"]]
        fields = dict(body["event"])
        fields["actor"] = Actor(**fields["actor"])
        reply = body.get("reply") or {}
        return cls(**fields), dict(reply)
    except (ValueError, KeyError, TypeError) as exc:
        raise UnreadablePayload(type(exc).__name__) from exc


def process_name() -> str:
    """Who holds a lease: host, pid and a random tag (a restarted pid is another process)."""
    return f"{socket.gethostname()[:16]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


Resume = Callable[[int, Event, dict[str, Any]], Awaitable[None]]
Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Calls arriving while a write is under way are written together by the next one: under a
    burst each caller waits for about one transaction, not for one per click ahead of it."""

    def __init__(
        self, write: Callable[[list[Item]], Awaitable[list[Result]]], limit: int = BATCH
    ) -> None:
        self.write = write
        self.limit = limit
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Future[None] | None = None

    async def __call__(self, item: Item) -> Result:
        written: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_waiting())
        return await written

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
            try:
                results = await self.write([item for item, _ in batch])
            except Exception as exc:
                for _, written in batch:
                    if not written.done():
                        written.set_exception(exc)
                continue
            for (_, written), result in zip(batch, results, strict=True):
                if not written.done():
                    written.set_result(result)


class InboundQueue:
    """One platform's durable inbound work in this process: put, done, and the takeover loop."""

    def __init__(self, db: Database, platform: str, lease_seconds: float) -> None:
        self.db = db
        self.platform = platform
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = process_name()
        self.in_hand: dict[int, float] = {}  # row id -> when this process took or wrote it
        self._task: asyncio.Task[None] | None = None
        self._put = GroupCommit(self._put_many)
        self._done = GroupCommit(self._done_many)
        self._stopping = asyncio.Event()

    async def put(self, event: Event, reply: dict[str, Any], dedupe_key: str | None) -> int | None:
        """Keep the delivery; its row id, or ``None`` when it was seen before."""
        work_id = await self._put(work.NewWork(encode(event, reply), dedupe_key))
        if work_id is not None:
            self.in_hand[work_id] = time.monotonic()
        return work_id

    async def _put_many(self, items: list[work.NewWork]) -> list[int | None]:
        return await work.put_many(
            self.db, items, platform=self.platform, owner=self.owner, lease=self.lease
        )

    async def _done_many(self, ids: list[int]) -> list[None]:
        await work.done_many(self.db, ids)
        return [None] * len(ids)

    async def still_ours(self, work_id: int | None) -> bool:
        """Call just before handling: after waiting half a lease in memory, renew it (and find
        out whether another process took the row meanwhile)."""
        if work_id is None:
            return True
        since = self.in_hand.get(work_id, 0.0)
        if time.monotonic() - since < self.lease.total_seconds() / 2:
            return True
        if await work.renew(self.db, work_id, owner=self.owner, lease=self.lease):
            self.in_hand[work_id] = time.monotonic()
            return True
        self.in_hand.pop(work_id, None)
        return False

    async def done(self, work_id: int | None) -> None:
        if work_id is None:
            return
        try:
            await self._done(work_id)
        except Exception as exc:
            # Left in place, it is handled again after its lease: at least once, never lost.
            log.warning("inbound work not cleared", extra={"error": type(exc).__name__})
        finally:
            self.in_hand.pop(work_id, None)

    # ---- taking over what a dead process left -------------------------------------------------

    async def start(self, resume: Resume) -> None:
        """Before the server listens: on SQLite (one process, the only writer) everything
        left over is this process's to finish, so take it all now; then keep watching."""
        if self.db.is_sqlite:
            try:
                while await self.take_once(resume, everything=True) == TAKE_BATCH:
                    pass
            except Exception as exc:
                log.warning("inbound work not taken", extra={"error": type(exc).__name__})
        self._task = asyncio.ensure_future(self.run(resume))

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def poll_seconds(self) -> float:
        return min(max(self.lease.total_seconds() / 4, 0.2), 5.0)

    async def run(self, resume: Resume) -> None:
        """Take rows whose lease ran out, every ``poll_seconds``, until stopped."""
        while not self._stopping.is_set():
            try:
                await self.take_once(resume)
            except Exception as exc:  # the database is down: try again next time
                log.warning("inbound work not taken", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_seconds)

    async def take_once(self, resume: Resume, *, everything: bool = False) -> int:
        """Take what is due and hand each row to ``resume``; returns how many were taken."""
        taken = await work.take(
            self.db,
            platform=self.platform,
            owner=self.owner,
            lease=self.lease,
            limit=TAKE_BATCH,
            everything=everything,
            exclude=set(self.in_hand),
        )
        for row in taken:
            self.in_hand[row.id] = time.monotonic()
            try:
                if row.attempts > MAX_TAKES:
                    raise UnreadablePayload("taken too often")
                event, reply = decode(crypto.unseal(row.stored))
            except Exception as exc:
                log.error(
                    "inbound work dropped",
                    extra={"work_id": row.id, "error": type(exc).__name__},
                )
                await self.done(row.id)
                continue
            log.info(
                "inbound work taken over", extra={"work_id": row.id, "event": type(event).__name__}
            )
            await resume(row.id, event, reply)
        return len(taken)
