"""The authorisation matrix: every action tried by every role, across two workspaces.

An allowed action works; a refused one gets a kind reply and changes nothing at all (every row
of every table is compared before and after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from handlers.base.core import Core
from handlers.base.errors import CoreGroupError
from handlers.base.events import Actor, Command, Event, FormSubmit, HomeOpened, Press
from handlers.base.messages import Home, Reply, spans_text
from handlers.reflection import closing
from handlers.router import _route, handle
from storage.models import Member, Participation, ReflectionSession

WS1, WS2 = "ws1", "ws2"
CHAN_A, CHAN_B = "group-a", "group-b"
CHILD_A, CHILD_B, CHILD_WS2 = "AB-1234", "CD-5678", "EF-9012"

ROLES = {
    "stranger": Actor("console", WS1, "stranger"),
    "member": Actor("console", WS1, "hv"),
    "other_group_member": Actor("console", WS1, "bob"),
    "facilitator": Actor("console", WS1, "ro"),
    "co_facilitator": Actor("console", WS1, "cofac"),
    "chair": Actor("console", WS1, "chair"),
    "lead_officer": Actor("console", WS1, "lo"),
    "admin": Actor("console", WS1, "adm"),
    "same_id_other_workspace": Actor("console", WS2, "ro"),
}
# Who has a legitimate view of group A's child reference.
INVOLVED = {"member", "facilitator", "co_facilitator", "admin"}


@dataclass(frozen=True)
class World:
    open_session: int | None
    closed_session: int
    hv_participation: int | None


@dataclass(frozen=True)
class Action:
    needs_open: bool
    allowed: frozenset[str]
    make: Callable[[Actor, World], Event]


def cmd(text_: str, channel: str = CHAN_A) -> Callable[[Actor, World], Event]:
    return lambda actor, _w: Command(actor, text_, channel)


SETUP_A = (
    f"setup child={CHILD_A} registered=2026-01-05 facilitator=@ro chair=@chair "
    "members=@hv:Health visiting;@sw:Social care"
)

ACTIONS: dict[str, Action] = {
    "setup": Action(False, frozenset({"facilitator", "admin"}), cmd(SETUP_A)),
    "start": Action(False, frozenset({"facilitator", "co_facilitator"}), cmd("")),
    "status": Action(
        True, frozenset({"member", "facilitator", "co_facilitator", "admin"}), cmd("status")
    ),
    "remind": Action(True, frozenset({"facilitator", "co_facilitator"}), cmd("remind")),
    "close_form": Action(True, frozenset({"facilitator", "co_facilitator"}), cmd("close")),
    "close_submit": Action(
        True,
        frozenset({"facilitator", "co_facilitator"}),
        lambda a, w: FormSubmit(
            a, closing.CLOSE_FORM, {"family_sharing": "Talk it through."}, str(w.open_session)
        ),
    ),
    "cancel": Action(True, frozenset({"facilitator", "co_facilitator"}), cmd("cancel")),
    "add_member": Action(
        False, frozenset({"facilitator", "co_facilitator", "admin"}), cmd("add @newbie Police")
    ),
    "role_grant": Action(False, frozenset({"admin"}), cmd("role @someone lead_officer")),
    "co_facilitator_grant": Action(
        False, frozenset({"facilitator", "admin"}), cmd("cofacilitator @sw")
    ),
    "answer_hvs_participation": Action(
        True,
        frozenset({"member"}),
        lambda a, w: Press(a, "dlg.start", str(w.hv_participation)),
    ),
    "start_button_for_group": Action(
        False,
        frozenset({"facilitator", "co_facilitator"}),
        lambda a, w: Press(a, "reflect.start", "1"),  # replaced with group A's id below
    ),
    "export_from_chat": Action(
        False, frozenset({"facilitator", "co_facilitator", "admin"}), cmd("export")
    ),
    "home": Action(False, frozenset(ROLES), lambda a, w: HomeOpened(a)),
}


async def _as(core: Core, actor: Actor, words: str, channel: str) -> None:
    intents = await handle(core, Command(actor, words, channel))
    refused = [i for i in intents if isinstance(i, Reply) and "Sorry" in i.message.text]
    assert not refused, f"setup step refused: {words}"


async def build_world(core: Core, *, open_session: bool) -> World:
    adm, ro = ROLES["admin"], ROLES["facilitator"]
    await _as(core, adm, SETUP_A, CHAN_A)  # the first to set up becomes the admin
    await _as(
        core,
        adm,
        f"setup child={CHILD_B} registered=2026-01-05 facilitator=@ro2 members=@bob:School",
        CHAN_B,
    )
    await _as(core, adm, "role @lo lead_officer", CHAN_A)
    await _as(core, ro, "cofacilitator @cofac", CHAN_A)
    # Workspace 2 has a group in a channel with the same id, run by other people.
    other = Actor("console", WS2, "x-admin")
    await _as(
        core,
        other,
        f"setup child={CHILD_WS2} registered=2026-01-05 facilitator=@x-ro members=@x-hv:Police",
        CHAN_A,
    )
    await handle(core, Command(ro, "", CHAN_A))
    async with core.db.read() as s:
        first = (await s.exec(select(ReflectionSession))).one()
    sharing = {"family_sharing": "At the visit."}
    await handle(core, FormSubmit(ro, closing.CLOSE_FORM, sharing, str(first.id)))
    open_id = hv_pid = None
    if open_session:
        await handle(core, Command(ro, "", CHAN_A))
        async with core.db.read() as s:
            session = (
                await s.exec(select(ReflectionSession).where(ReflectionSession.status == "open"))
            ).one()
            hv_pid = (
                await s.exec(
                    select(Participation.id)
                    .join(Member, col(Member.id) == col(Participation.member_id))
                    .where(Member.user_id == "hv", Participation.session_id == session.id)
                )
            ).one()
            open_id = session.id
    return World(open_id, first.id or 0, hv_pid)


async def snapshot(core: Core) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text."""
    out: dict[str, list[tuple[str, ...]]] = {}
    async with core.db.read() as s:
        conn = await s.connection()
        for table in SQLModel.metadata.sorted_tables:
            rows = await conn.execute(text(f'SELECT * FROM "{table.name}"'))
            out[table.name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


async def wipe(core: Core) -> None:
    async with core.db.write() as s:
        conn = await s.connection()
        for table in reversed(SQLModel.metadata.sorted_tables):
            await conn.exec_driver_sql(f'DELETE FROM "{table.name}"')


def _text(intents: list) -> str:
    out = []
    for i in intents:
        message = getattr(i, "message", None)
        if message is not None:
            out.append(message.text)
            for b in message.blocks:
                spans = getattr(b, "spans", None)
                if spans:
                    out.append(spans_text(spans))
    return " ".join(out)


@pytest.mark.parametrize("action_name", list(ACTIONS))
async def test_every_role_tries_the_action(core: Core, action_name: str):
    action = ACTIONS[action_name]
    for role, actor in ROLES.items():
        await wipe(core)
        world = await build_world(core, open_session=action.needs_open)
        event = action.make(actor, world)
        if action_name == "start_button_for_group":
            async with core.db.read() as s:
                group_a = (
                    await s.exec(select(Member.group_id).where(Member.user_id == "hv"))
                ).first()
            event = Press(actor, "reflect.start", str(group_a))
        before = await snapshot(core)
        where = f"{action_name} by {role}"
        try:
            intents = await _route(core, event)
        except CoreGroupError as error:
            assert role not in action.allowed, f"{where} was refused: {error.user_message}"
            assert await snapshot(core) == before, f"{where} was refused but changed data"
            reply = await handle(core, event)
            assert len(reply) == 1 and isinstance(reply[0], Reply), where
            assert reply[0].message.text == error.user_message
            assert await snapshot(core) == before
            continue
        assert role in action.allowed, f"{where} was allowed"
        if action_name == "home":
            shown = _text([i for i in intents if isinstance(i, Home)])
            if role not in INVOLVED:
                assert CHILD_A not in shown, f"{role} sees group A's child on their home"
            assert CHILD_WS2 not in shown or role == "same_id_other_workspace"


async def test_lead_officer_and_chair_never_see_a_childs_answers(core: Core):
    """Status shows names ticked, never content; even so the Lead Officer and chair are refused."""
    await build_world(core, open_session=True)
    for role in ("lead_officer", "chair", "stranger", "other_group_member"):
        reply = await handle(core, Command(ROLES[role], "status", CHAN_A))
        assert CHILD_A not in _text(reply), role


async def test_the_chair_is_told_why_they_cannot_facilitate(core: Core):
    await build_world(core, open_session=False)
    reply = await handle(core, Command(ROLES["chair"], "", CHAN_A))
    assert "chair" in reply[0].message.text.lower()
    refused = await handle(core, Command(ROLES["facilitator"], "cofacilitator @chair", CHAN_A))
    assert "chair" in refused[0].message.text.lower()
