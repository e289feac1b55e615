"""Register a channel as a core group, with its facilitator, conference chair and members.

Two ways in, one validation: the setup form, or inline arguments for power users::

    /reflect setup child=AB-1234 registered=2026-01-05 facilitator=@ro chair=@chair
                   members=@sw:Social care;@hv:Health visiting;@school:Education
                   [prebirth=yes rcppm=2026-02-01] [anchor=registration|last_held]
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    ensure_org,
    has_any_admin,
    is_org_admin,
    staff_roles,
)
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotAllowed
from handlers.base.events import Actor
from handlers.base.i18n import org_language
from handlers.base.messages import (
    Form,
    FormField,
    Intent,
    Mention,
    Message,
    Option,
    Paragraph,
    Post,
    Span,
    Strong,
)
from handlers.base.wording import t_spans
from handlers.groups.draft import MEMBER_ROWS, NAME_REFUSED, GroupDraft, looks_like_name
from prompts.strings import t
from storage.models import (
    CoreGroup,
    GroupStatus,
    Member,
    MemberRole,
    Organisation,
    OrgRole,
    StaffRole,
)

SETUP_FORM = "group.setup"


def setup_form(
    channel_id: str, existing: CoreGroup | None, members: list[Member], lang: str = "en"
) -> Form:
    return Form(
        form_id=SETUP_FORM,
        title=t("groups.form_title", lang),
        fields=(*_group_fields(existing, lang), *_member_fields(members, lang)),
        state=channel_id,
        submit=t("dialogue.save", lang),
        intro=(t("groups.form_intro", lang),),
    )


def _initial(value: object) -> str | None:
    return None if value is None else str(value)


def _group_fields(existing: CoreGroup | None, lang: str) -> list[FormField]:
    """The child, the dates, the facilitator, the chair and the schedule's anchor."""
    return [
        FormField(
            "child_ref",
            t("groups.child_ref", lang),
            hint=t("groups.child_ref_hint", lang),
            initial=_initial(existing.child_ref if existing else None),
            max_length=32,
        ),
        FormField(
            "registered_on",
            t("groups.registered_on", lang),
            kind="date",
            initial=_initial(existing.registered_on if existing else None),
        ),
        FormField(
            "pre_birth",
            t("groups.pre_birth", lang),
            kind="check",
            initial=bool(existing and existing.pre_birth),
            optional=True,
        ),
        FormField(
            "rcppm_on",
            t("groups.rcppm_on", lang),
            kind="date",
            optional=True,
            initial=_initial(existing.rcppm_on if existing else None),
        ),
        FormField(
            "facilitator",
            t("groups.facilitator", lang),
            kind="user",
            initial=existing.facilitator_id if existing else None,
        ),
        FormField(
            "chair",
            t("groups.chair", lang),
            kind="user",
            optional=True,
            initial=existing.chair_id if existing else None,
        ),
        FormField(
            "anchor",
            t("groups.anchor", lang),
            kind="select",
            options=(
                Option("registration", t("groups.anchor_registration", lang)),
                Option("last_held", t("groups.anchor_last_held", lang)),
            ),
            initial=existing.schedule_anchor if existing else "registration",
        ),
    ]


def _member_fields(members: list[Member], lang: str) -> list[FormField]:
    """A person and an agency per row, the answering members filled in."""
    answering = [m for m in members if m.role == MemberRole.MEMBER]
    fields: list[FormField] = []
    for i in range(1, MEMBER_ROWS + 1):
        m = answering[i - 1] if i <= len(answering) else None
        fields.append(
            FormField(
                f"member_{i}",
                t("groups.member_n", lang, n=i),
                kind="user",
                optional=True,
                initial=m.user_id if m else None,
            )
        )
        fields.append(
            FormField(
                f"agency_{i}",
                t("groups.agency_n", lang, n=i),
                optional=True,
                hint=t("groups.agency_hint", lang),
                max_length=120,
                initial=m.agency if m else None,
            )
        )
    return fields


def _check_draft(actor: Actor, draft: GroupDraft) -> None:
    """Refuse a draft that cannot be a core group (before any query)."""
    if draft.chair and draft.chair[0] == draft.facilitator[0]:
        raise NotAllowed(key="errors.chair_is_facilitator")
    if draft.anchor not in ("registration", "last_held"):
        raise BadInput(key="errors.anchor")
    if draft.pre_birth and draft.rcppm_on and draft.rcppm_on < draft.registered_on:
        raise BadInput(key="errors.rcppm_before")
    if len({m[0] for m in draft.members}) != len(draft.members):
        raise BadInput(key="errors.member_twice")
    if draft.facilitator[0] == actor.user_id and not draft.facilitator[1]:
        draft.facilitator = (actor.user_id, actor.name)  # we know our own name


async def register(
    core: Core, actor: Actor, channel_id: str | None, draft: GroupDraft
) -> list[Intent]:
    """Create or update the channel's core group. Admins and Reviewing Officers only.

    In a brand-new organisation the first person to set up a group becomes its admin.
    """
    if not channel_id:
        raise BadInput(key="errors.setup_in_channel")
    _check_draft(actor, draft)
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if not org.child_names_allowed and looks_like_name(draft.child_ref):
            raise BadInput(NAME_REFUSED)
        group = await _group_to_change(s, org, actor, channel_id, now)
        created = group is None
        if group is None:
            group = CoreGroup(
                org_id=org.id or 0,
                child_ref=draft.child_ref,
                registered_on=draft.registered_on,
                facilitator_id=draft.facilitator[0],
                channel_id=channel_id,
                timezone=org.timezone,
            )
        _apply(group, draft)
        s.add(group)
        await s.flush()
        await _sync_members(s, group, draft)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="group.created" if created else "group.updated",
            subject=f"group:{group.id}",
            at=now,
            members=len(draft.members),
        )
    return [_confirmation(channel_id, draft, created, org_language(org))]


async def _group_to_change(
    s: AsyncSession, org: Organisation, actor: Actor, channel_id: str, now: datetime
) -> CoreGroup | None:
    """The channel's group (None: a new one), once the actor may set it up or change it.

    The first person ever to set up a group in the organisation becomes its admin.
    """
    roles = await staff_roles(s, org, actor.user_id)
    first_ever = not await has_any_admin(s, org)
    if first_ever:
        s.add(StaffRole(org_id=org.id or 0, user_id=actor.user_id, role=OrgRole.ADMIN))
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="admin.bootstrap",
            subject=f"org:{org.id}",
            at=now,
        )
    allowed = first_ever or bool(roles & {OrgRole.ADMIN, OrgRole.FACILITATOR})
    group = (
        await s.exec(
            select(CoreGroup).where(CoreGroup.org_id == org.id, CoreGroup.channel_id == channel_id)
        )
    ).first()
    if group is not None and not (
        await is_org_admin(s, org, actor.user_id) or actor.user_id == group.facilitator_id
    ):
        raise NotAllowed(key="errors.only_fac_or_admin_change", mention=group.facilitator_id)
    if group is None and not allowed:
        raise NotAllowed(key="errors.only_admin_or_ro_setup")
    if group is not None and group.status == GroupStatus.ENDED:
        raise Conflict(key="lifecycle.ended_setup")  # only /reflect resume brings it back
    return group


def _apply(group: CoreGroup, draft: GroupDraft) -> None:
    group.child_ref = draft.child_ref
    group.registered_on = draft.registered_on
    group.pre_birth = draft.pre_birth
    group.rcppm_on = draft.rcppm_on
    group.facilitator_id = draft.facilitator[0]
    group.chair_id = draft.chair[0] if draft.chair else None
    group.schedule_anchor = draft.anchor


async def _sync_members(s: AsyncSession, group: CoreGroup, draft: GroupDraft) -> None:
    existing = {
        m.user_id: m for m in await s.exec(select(Member).where(Member.group_id == group.id))
    }
    wanted: dict[str, tuple[str, str, MemberRole]] = {}
    fac_id, fac_name = draft.facilitator
    wanted[fac_id] = (fac_name, "Reviewing Officer", MemberRole.FACILITATOR)
    for user_id, name, agency in draft.members:
        if user_id == fac_id:
            continue
        if draft.chair and user_id == draft.chair[0]:
            continue  # the chair is recorded on the group, not asked to reflect
        wanted[user_id] = (name, agency, MemberRole.MEMBER)
    for user_id, (name, agency, role) in wanted.items():
        row = existing.get(user_id)
        if row is None:
            row = Member(
                group_id=group.id or 0,
                user_id=user_id,
                display_name=name or user_id,
                agency=agency,
                role=role,
            )
        else:
            row.active = True
            row.role = role
            if name:
                row.display_name = name
            if agency or role == MemberRole.FACILITATOR:
                row.agency = agency
        s.add(row)
    for user_id, row in existing.items():
        if user_id not in wanted and row.active and row.role != MemberRole.CO_FACILITATOR:
            row.active = False
            s.add(row)
    await s.flush()


def _confirmation(channel_id: str, draft: GroupDraft, created: bool, lang: str = "en") -> Post:
    spans: list[Span] = list(
        t_spans(
            "groups.confirm" if created else "groups.confirm_updated",
            lang,
            child_ref=Strong(draft.child_ref),
            facilitator=Mention(draft.facilitator[0], draft.facilitator[1]),
            count=len(draft.members),
        )
    )
    if draft.pre_birth and not draft.rcppm_on:
        spans.append(" " + t("groups.rcppm_later", lang))
    spans.append(" " + t("groups.start_hint", lang))
    text = t("groups.set_up" if created else "groups.updated", lang, child_ref=draft.child_ref)
    return Post(channel_id, Message(text=text, blocks=(Paragraph(tuple(spans)),)))
