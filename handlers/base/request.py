"""Who is asking, resolved once per event: organisation, roles, language and channel's group.

The router builds a :class:`Request` in one read when an event arrives and hands it to the
handler where the handler takes an ``Actor`` (a ``Request`` is one). The access and language
helpers then use these facts instead of querying again: ``find_org``/``ensure_org`` attach the
organisation row without a query, and ``staff_roles``/``language_for`` answer from the request
for the person who acted, in the session it was attached to.

A session that writes roles, preferences or the organisation itself (``/reflect role``,
``/reflect language``, the first admin) stops trusting the request, so a change made during
the event is what the rest of the event sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlmodel import and_, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.base.events import Actor
from prompts.strings import FALLBACK, normalise_language
from storage.models import CoreGroup, Organisation, PersonPreference, StaffRole

_KEY = "request"
# Rows whose change makes the resolved facts out of date for the rest of the session.
_FACTS = (Organisation, StaffRole, PersonPreference)


@dataclass(frozen=True)
class Request(Actor):
    """An ``Actor`` with the facts every handler needs, read once when the event arrived.

    ``org_id`` is None when the organisation has not been seen before (the handler's
    ``ensure_org`` creates it). ``group_id`` is the group of ``channel_id``, if any.
    """

    org_id: int | None = None
    org_row: tuple[tuple[str, Any], ...] = ()
    roles: frozenset[str] = frozenset()
    language: str = FALLBACK
    channel_id: str | None = None
    group_id: int | None = None


def _columns() -> list[str]:
    return [c.key for c in Organisation.__table__.columns]  # type: ignore[attr-defined]


async def resolve(core: Core, actor: Actor, channel_id: str | None = None) -> Request:
    """Everything about who is asking, in one statement (one row per staff role)."""
    org, pref, group = Organisation, PersonPreference, CoreGroup
    stmt = (
        select(org, pref.language, group.id, StaffRole.role)
        .outerjoin(pref, and_(pref.org_id == org.id, pref.user_id == actor.user_id))
        .outerjoin(
            group,
            and_(group.org_id == org.id, group.channel_id == (channel_id or "")),
        )
        .outerjoin(StaffRole, and_(StaffRole.org_id == org.id, StaffRole.user_id == actor.user_id))
        .where(org.platform == actor.platform, org.external_id == actor.org)
        .order_by(col(group.id))
    )
    async with core.db.read() as s:
        rows = list(await s.exec(stmt))
    who = (actor.platform, actor.org, actor.user_id, actor.name)
    if not rows:
        return Request(*who, channel_id=channel_id)
    found, chosen, group_id, _ = rows[0]
    return Request(
        *who,
        org_id=found.id,
        org_row=tuple((k, getattr(found, k)) for k in _columns()),
        roles=frozenset(str(r[3]) for r in rows if r[3] is not None),
        language=normalise_language(chosen) if chosen else normalise_language(found.language),
        channel_id=channel_id,
        group_id=group_id if channel_id else None,
    )


async def attach_org(s: AsyncSession, request: Request) -> Organisation:
    """The request's organisation as a row of this session, without a query."""
    remember(s, request)
    held = s.sync_session.identity_map.get(identity_key(Organisation, request.org_id))
    if isinstance(held, Organisation):
        return held  # already read in this session: never overwrite it with the snapshot
    row = Organisation(**dict(request.org_row))
    make_transient_to_detached(row)
    return await s.merge(row, load=False)


def remember(s: AsyncSession, request: Request) -> None:
    """Let this session's helpers answer from ``request`` (until the facts are written)."""
    if _KEY not in s.info:
        event.listen(s.sync_session, "before_flush", _forget_on_write)
    s.info[_KEY] = request


def resolved_for(s: AsyncSession, org_id: int | None, user_id: str | None) -> Request | None:
    """The request remembered by ``s`` if it is about this person in this organisation."""
    request = s.info.get(_KEY)
    if request is None or org_id is None or request.org_id != org_id:
        return None
    if user_id is not None and request.user_id != user_id:
        return None
    if _writes_facts(s):
        s.info.pop(_KEY, None)
        return None
    return request if isinstance(request, Request) else None


def _writes_facts(s: AsyncSession) -> bool:
    changed = (*s.new, *s.dirty, *s.deleted)
    return any(isinstance(row, _FACTS) for row in changed)


def _forget_on_write(session: Any, _context: Any, _instances: Any) -> None:
    if any(isinstance(row, _FACTS) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_KEY, None)
