"""The facilitator's debrief: a private note after the session, for the facilitators.

After close the facilitator gets a DM with *Write a debrief note*; the note is stored apart from
the record (its own table), so nothing that compiles or exports the record can pick it up. Only
the group's facilitator and co-facilitators can write or read it (``/reflect debrief``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, require_facilitator, session_for
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict
from handlers.base.events import Actor
from handlers.base.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Direct,
    Form,
    FormField,
    FormValues,
    Heading,
    Intent,
    Message,
    OpenForm,
    Paragraph,
    Reply,
    Strong,
)
from handlers.base.text import clean
from storage.models import (
    CoreGroup,
    Organisation,
    ReflectionSession,
    SessionDebrief,
    SessionStatus,
)

WRITE_PRESS = "debrief.write"
DEBRIEF_FORM = "debrief.note"
MAX_NOTE_CHARS = 3000
SHOWN_NOTES = 5
PRIVATE = "Only you and any co-facilitator can see it. It is never part of the group's record."


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def invitation(session_id: int, child_ref: str) -> Message:
    said = f"The supervision for {child_ref} is closed. Thank you for holding the space."
    return Message(
        text=said,
        blocks=(
            Paragraph((said,)),
            Paragraph(
                (
                    "If it helps, write a short debrief note: how it went, what you noticed, "
                    "what you might do differently. ",
                    PRIVATE,
                )
            ),
            Buttons(
                (
                    Button(
                        "Write a debrief note",
                        WRITE_PRESS,
                        str(session_id),
                        spoken=f"Write a private debrief note about {child_ref}",
                    ),
                )
            ),
        ),
    )


def invitations(group: CoreGroup, closer: str, session_id: int) -> list[Intent]:
    """The DM to whoever closed the session, and to the named facilitator if someone else did."""
    people = [closer] + ([group.facilitator_id] if group.facilitator_id != closer else [])
    return [Direct(user, invitation(session_id, group.child_ref)) for user in people]


async def _note(s: AsyncSession, session_id: int) -> SessionDebrief | None:
    return (
        await s.exec(select(SessionDebrief).where(SessionDebrief.session_id == session_id))
    ).first()


async def _closed_session_for_facilitator(
    s: AsyncSession, core: Core, actor: Actor, session_id: int
) -> tuple[Organisation, ReflectionSession, CoreGroup]:
    org = await ensure_org(s, core, actor)
    session, group = await session_for(s, org, session_id)
    await require_facilitator(s, group, actor, "write or read the debrief note")
    if session.status != SessionStatus.CLOSED:
        raise Conflict("The debrief note is for after the session has closed.")
    return org, session, group


async def open_form(core: Core, actor: Actor, session_id: int) -> list[Intent]:
    """The *Write a debrief note* button: a short private form, with the note so far."""
    async with core.db.read() as s:
        _org, session, group = await _closed_session_for_facilitator(s, core, actor, session_id)
        existing = await _note(s, session_id)
    form = Form(
        form_id=DEBRIEF_FORM,
        title="Debrief note",
        fields=(
            FormField(
                "note",
                "Your debrief note",
                kind="multiline",
                hint="How did it go? What did you notice? What would you do differently?",
                initial=existing.text if existing else None,
                optional=True,
                max_length=MAX_NOTE_CHARS,
            ),
        ),
        state=str(session.id),
        submit="Save note",
        intro=(f"A private note about the supervision for {group.child_ref}. ", PRIVATE),
    )
    return [OpenForm(form)]


async def save(core: Core, actor: Actor, state: str, values: FormValues) -> list[Intent]:
    """Save (or, when emptied, remove) the note; the audit log records that, never the text."""
    if not state.isdigit():
        raise BadInput("That form has expired. Please start again.")
    raw = values.get("note")
    text = clean(raw) if isinstance(raw, str) else ""
    if len(text) > MAX_NOTE_CHARS:
        raise BadInput(
            f"The note is too long ({len(text)} characters). Please keep it under "
            f"{MAX_NOTE_CHARS}; nothing was saved."
        )
    session_id = int(state)
    now = core.now()
    async with core.db.write() as s:
        org, _session, _group = await _closed_session_for_facilitator(s, core, actor, session_id)
        existing = await _note(s, session_id)
        if not text:
            if existing is not None:
                await s.delete(existing)
            said = "Your debrief note was removed." if existing else "Nothing was saved."
            action = "debrief.removed" if existing else None
        else:
            note = existing or SessionDebrief(session_id=session_id, text=text, written_by="")
            note.text = text
            note.written_by = actor.user_id
            note.updated_at = now
            s.add(note)
            said = f"Your debrief note is saved. {PRIVATE} See it again with /reflect debrief."
            action = "debrief.saved"
        if action is not None:
            await audit.record(
                s,
                org_id=org.id,
                actor=actor.user_id,
                action=action,
                subject=f"session:{session_id}",
                at=now,
            )
    return [Reply(Message(text=said, blocks=(Paragraph((said,)),)))]


async def show(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    """``/reflect debrief``: the group's recent debrief notes, for its facilitators only."""
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_facilitator(s, group, actor, "read the debrief notes")
        sessions = list(
            await s.exec(
                select(ReflectionSession)
                .where(
                    ReflectionSession.group_id == group.id,
                    ReflectionSession.status == SessionStatus.CLOSED,
                )
                .order_by(col(ReflectionSession.closed_at).desc(), col(ReflectionSession.id).desc())
            )
        )
        ids = [x.id for x in sessions if x.id is not None]
        notes = {
            n.session_id: n
            for n in await s.exec(
                select(SessionDebrief).where(col(SessionDebrief.session_id).in_(ids))
            )
        }
    tz = _tz(org.timezone)
    title = f"Debrief notes · {group.child_ref}"
    blocks: list[Block] = [Heading(title), Context((PRIVATE,))]
    lines = [title]
    written = [x for x in sessions if x.id in notes][:SHOWN_NOTES]
    for session in written:
        note = notes[session.id or 0]
        day = (session.closed_at or session.opened_at).astimezone(tz).date()
        when = f"{day:%A} {day.day} {day:%B %Y}"
        blocks.append(Paragraph((Strong(f"Supervision on {when}"), "\n", note.text)))
        lines.append(f"Supervision on {when}: {note.text}")
    if not sessions:
        said = "No supervision has closed here yet, so there is nothing to debrief."
        blocks.append(Paragraph((said,)))
        lines.append(said)
    else:
        latest = sessions[0]
        if not written:
            said = "No debrief notes yet."
            blocks.append(Paragraph((said,)))
            lines.append(said)
        label = "Change the latest note" if latest.id in notes else "Write a debrief note"
        blocks.append(
            Buttons(
                (
                    Button(
                        label,
                        WRITE_PRESS,
                        str(latest.id),
                        spoken=f"{label} for the latest supervision",
                    ),
                )
            )
        )
    return [Reply(Message(text="\n".join(lines), blocks=tuple(blocks)))]
