"""Actions agreed at a session, through to done.

- **Done** / **Not yet** on every action reminder (for its owner) and **Done** beside each
  open action in ``/reflect actions`` (for the facilitator): Done sets the action's status.
- ``/reflect actions`` lists the group's open actions: owner, due date and status.
- :func:`previous_actions` gives the lines the next session's close form starts with.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    co_facilitators,
    ensure_org,
    group_by_id,
    group_for_channel,
    is_facilitator,
    is_org_admin,
    member_in,
)
from handlers.base.buttons import ACTION_DONE
from handlers.base.core import Core
from handlers.base.errors import NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import (
    Block,
    Button,
    Buttons,
    Heading,
    Intent,
    Message,
    Paragraph,
    Reply,
    plain,
)
from prompts.strings import t
from storage.models import (
    ActionItem,
    ActionStatus,
    CoreGroup,
    Member,
    Organisation,
    ReflectionSession,
    SessionStatus,
)


def status_word(status: str, lang: str = "en") -> str:
    """ "open", "done" or "dropped" in the reader's language."""
    return t(f"actions.status_{status}", lang)


def action_line(action: ActionItem, owner: Member | None, lang: str) -> str:
    due = action.due_on.isoformat() if action.due_on else t("actions.no_due", lang)
    return t(
        "actions.line",
        lang,
        text=action.text,
        owner=owner.display_name if owner else t("actions.no_owner", lang),
        due=due,
        status=status_word(str(action.status), lang),
    )


async def _may_mark(
    s: AsyncSession, org: Organisation, group: CoreGroup, action: ActionItem, actor: Actor
) -> bool:
    """The action's owner, the facilitator (or a co-facilitator), or an admin."""
    owner = await s.get(Member, action.owner_member_id) if action.owner_member_id else None
    if owner is not None and owner.user_id == actor.user_id:
        return True
    if is_facilitator(group, actor.user_id, await co_facilitators(s, group.id or 0)):
        return True
    return await is_org_admin(s, org, actor.user_id)


async def _action(
    s: AsyncSession, core: Core, actor: Actor, action_id: int
) -> tuple[Organisation, CoreGroup, ActionItem]:
    org = await ensure_org(s, core, actor)
    action = await s.get(ActionItem, action_id)
    if action is None:
        raise NotFound()
    group = await group_by_id(s, org, action.group_id)  # another organisation's: not found
    if not await _may_mark(s, org, group, action, actor):
        raise NotAllowed(key="actions.only_owner")
    return org, group, action


async def mark_done(core: Core, actor: Actor, action_id: int) -> list[Intent]:
    """**Done**: the action's status becomes done (once; a second press says so)."""
    now = core.now()
    async with core.db.write() as s:
        org, group, action = await _action(s, core, actor, action_id)
        lang = await language_for(s, org, actor.user_id)
        if action.status == ActionStatus.DONE:
            return [Reply(plain(t("actions.already_done", lang)))]
        action.status = ActionStatus.DONE
        action.done_at = now
        s.add(action)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="action.done",
            subject=f"action:{action.id}",
            at=now,
            group=group.id,
        )
    return [Reply(plain(t("actions.marked_done", lang)))]


async def not_yet(core: Core, actor: Actor, action_id: int) -> list[Intent]:
    """**Not yet**: nothing changes; the owner hears that it stays open."""
    async with core.db.read() as s:
        org, _group, _action_row = await _action(s, core, actor, action_id)
        lang = await language_for(s, org, actor.user_id)
    return [Reply(plain(t("actions.not_yet_reply", lang)))]


async def list_actions(core: Core, actor: Actor, channel_id: str | None, rest: str) -> list[Intent]:
    """``/reflect actions``: open actions for the group's people; Done buttons for facilitators."""
    async with core.db.read() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        leads = is_facilitator(group, actor.user_id, await co_facilitators(s, group.id or 0))
        admin = await is_org_admin(s, org, actor.user_id)
        if not (leads or admin or await member_in(s, group.id or 0, actor.user_id)):
            raise NotAllowed(key="actions.members_only")
        lang = await language_for(s, org, actor.user_id)
        rows = list(
            await s.exec(
                select(ActionItem, Member)
                .join(Member, col(Member.id) == col(ActionItem.owner_member_id), isouter=True)
                .where(ActionItem.group_id == group.id, ActionItem.status == ActionStatus.OPEN)
                .order_by(col(ActionItem.due_on), col(ActionItem.id))
            )
        )
    title = t("actions.list_title", lang, child_ref=group.child_ref)
    if not rows:
        return [Reply(plain(t("actions.none_open", lang)))]
    blocks: list[Block] = [Heading(title)]
    lines = []
    for n, (action, owner) in enumerate(rows, start=1):
        line = action_line(action, owner, lang)
        lines.append(line)
        blocks.append(Paragraph((line,)))
        if leads or admin:
            spoken = t("actions.done_n_spoken", lang, n=n)
            done = Button(t("actions.done", lang), ACTION_DONE, str(action.id), spoken=spoken)
            blocks.append(Buttons((done,)))
    return [Reply(Message(text=title + "\n" + "\n".join(lines), blocks=tuple(blocks)))]


async def previous_actions(s: AsyncSession, session: ReflectionSession, lang: str) -> list[str]:
    """The actions of the group's last closed session before this one, with their status."""
    before = (
        await s.exec(
            select(ReflectionSession.id)
            .where(
                ReflectionSession.group_id == session.group_id,
                ReflectionSession.status == SessionStatus.CLOSED,
                col(ReflectionSession.id) != session.id,
                col(ReflectionSession.opened_at) <= session.opened_at,
            )
            .order_by(col(ReflectionSession.closed_at).desc())
        )
    ).first()
    if before is None:
        return []
    rows = await s.exec(
        select(ActionItem, Member)
        .join(Member, col(Member.id) == col(ActionItem.owner_member_id), isouter=True)
        .where(ActionItem.session_id == before)
        .order_by(col(ActionItem.id))
    )
    return [_previous_line(action, owner, lang) for action, owner in rows]


def _previous_line(action: ActionItem, owner: Member | None, lang: str) -> str:
    due: date | None = action.due_on
    return t(
        "actions.previous_line",
        lang,
        text=action.text,
        owner=owner.display_name if owner else t("actions.no_owner", lang),
        due=due.isoformat() if due else t("actions.no_due", lang),
        status=status_word(str(action.status), lang),
    )
