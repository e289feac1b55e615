"""A record file produced again from its ids, for a platform that asks the person first.

Teams only lets a bot put a file in someone's chat after they accept a consent card; the card
carries ids only (``record:<session id>``), never the file, so when the acceptance arrives the
Word record is built afresh here, and only for someone still entitled to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from handlers.base.access import ensure_org, member_in, session_for
from handlers.base.core import Core
from handlers.base.errors import NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import org_language
from prompts.strings import t
from storage.models import Participation, SessionStatus

RECORD_PREFIX = "record:"


@dataclass(frozen=True)
class RecordFile:
    filename: str
    content: bytes
    title: str


async def record_file(core: Core, actor: Actor, ref: str) -> RecordFile:
    """The Word record named by ``ref`` for ``actor``: a member of the group who took part in
    that closed session. Anything else is refused, as if the record did not exist."""
    from handlers.records.build import build_record
    from handlers.records.files import record_docx

    number = ref.removeprefix(RECORD_PREFIX)
    if not ref.startswith(RECORD_PREFIX) or not number.isdigit():
        raise NotFound(key="errors.not_found")
    session_id = int(number)
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        session, group = await session_for(s, org, session_id)
        member = await member_in(s, group.id or 0, actor.user_id)
        took_part = (
            member is not None
            and (
                await s.exec(
                    select(Participation).where(
                        Participation.session_id == session_id,
                        Participation.member_id == member.id,
                    )
                )
            ).first()
            is not None
        )
        if session.status != SessionStatus.CLOSED or not took_part:
            raise NotAllowed(key="errors.not_found")
        lang = org_language(org)
    view = await build_record(core, session_id)
    title = t("close.record_title", lang, child_ref=view.child_ref)
    return RecordFile(f"core-group-record-{session_id}.docx", record_docx(view), title)
