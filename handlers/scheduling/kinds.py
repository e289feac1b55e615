"""The registry of delivery kinds, and the two things done with it: plan every kind's due rows
into the ledger (:func:`due_deliveries`) and render a claimed row by its kind (:func:`render`).

The sweep (``bot/sweeper.py``) and ``coregroup remind --dry-run`` go through here rather than
naming kinds; adding a kind is one module with a ``DeliveryKind`` and one line below (or, for a
kind of a capability above scheduling, such as the oversight digest, one line where the sweep
assembles its registry). Both halves only look at the database and the clock; the sweep does
the sending.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from handlers.base.core import Core
from handlers.scheduling import action_reminders, channel_nudges, member_reminders, officer_reports
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Later,
    Outgoing,
    PlanningPass,
    calendar_for,
)
from handlers.scheduling.due import DEFAULT_RULES, Rules
from storage import ledger
from storage.ledger import Planned
from storage.models import Delivery, Organisation


class Registry:
    """Delivery kinds by their ledger ``kind`` name, in planning order."""

    def __init__(self, *kinds: DeliveryKind) -> None:
        self.by_name = {kind.name: kind for kind in kinds}

    def __iter__(self) -> Iterator[DeliveryKind]:
        return iter(self.by_name.values())

    def get(self, name: str) -> DeliveryKind | None:
        return self.by_name.get(name)

    def with_kinds(self, *kinds: DeliveryKind) -> Registry:
        """This registry and ``kinds`` besides."""
        return Registry(*self, *kinds)


SCHEDULING_KINDS = Registry(
    channel_nudges.KIND,
    officer_reports.KIND,
    member_reminders.KIND,
    action_reminders.KIND,
)


async def due_deliveries(
    core: Core,
    now: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
    *,
    dry_run: bool = False,
    kinds: Registry = SCHEDULING_KINDS,
) -> list[Planned]:
    """Insert the ledger rows of every kind that have come due; returns the new ones (dry run:
    the would-be ones, of the kinds a dry run previews), in key order. Idempotent: keys are
    unique. One transaction, one planning instance at a time."""
    now = now or core.now()
    async with core.db.read() if dry_run else core.db.write() as s:
        if not dry_run and not await ledger.planning_turn(s):
            return []  # another instance is planning this very moment; its rows will do
        run = PlanningPass(s, now, rules, dry_run, kinds)
        wanted: list[Planned] = []
        for kind in kinds:
            if kind.previewed or not dry_run:
                wanted += await kind.plan(run)
        known = await ledger.existing_keys(s, [p.key for p in wanted])
        new = sorted((p for p in wanted if p.key not in known), key=lambda p: p.key)
        if not dry_run:
            await ledger.insert_new(s, new)
        return new


async def render(
    core: Core,
    row: Delivery,
    now: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
    *,
    kinds: Registry = SCHEDULING_KINDS,
) -> Decision:
    """Decide, as a claimed row is about to go out, whether it still applies and what to say:
    nothing outside its organisation's office hours, else as its kind says."""
    now = now or core.now()
    async with core.db.read() as s:
        org = await s.get(Organisation, row.org_id)
        if org is None:
            return Drop("organisation gone")
        cal = calendar_for(org)
        if not cal.is_open(now):
            return Later(cal.next_open(now), "outside office hours")
        kind = kinds.get(row.kind)
        if kind is not None:
            return await kind.render(Outgoing(core, s, org, cal, row, now, rules))
    return Drop(f"unknown kind {row.kind}")
