"""Register a channel as a core group, with its facilitator, conference chair and members.

Two ways in, one validation: the setup form, or inline arguments for power users::

    /reflect setup child=AB-1234 registered=2026-01-05 facilitator=@ro chair=@chair
                   members=@sw:Social care;@hv:Health visiting;@school:Education
                   [prebirth=yes rcppm=2026-02-01] [anchor=registration|last_held]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    ensure_org,
    group_for_channel,
    has_any_admin,
    is_org_admin,
    require_facilitator,
    staff_roles,
)
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotAllowed
from handlers.base.events import Actor
from handlers.base.i18n import language_for, org_language
from handlers.base.messages import (
    Form,
    FormField,
    FormValues,
    Intent,
    Mention,
    Message,
    Option,
    Paragraph,
    Post,
    Reply,
    Span,
    Strong,
)
from handlers.base.parsing import parse_date, parse_user, split_person
from handlers.base.text import clean
from handlers.base.wording import t_spans
from prompts.strings import t
from storage.models import CoreGroup, GroupStatus, Member, MemberRole, OrgRole, StaffRole

SETUP_FORM = "group.setup"
MEMBER_ROWS = 8
CHILD_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,31}$")
ARG = re.compile(r"(?:^|\s)([a-z_]+)=")


@dataclass
class GroupDraft:
    child_ref: str
    registered_on: date
    facilitator: tuple[str, str]
    chair: tuple[str, str] | None
    pre_birth: bool = False
    rcppm_on: date | None = None
    anchor: str = "registration"
    members: list[tuple[str, str, str]] = field(default_factory=list)  # (user id, name, agency)


def _yes(raw: str | bool | None) -> bool:
    if isinstance(raw, bool):
        return raw
    return (raw or "").strip().lower() in ("yes", "y", "true", "1", "on")


def _check_child_ref(raw: str) -> str:
    ref = raw.strip()
    if not CHILD_REF.match(ref):
        raise BadInput(key="errors.child_ref_format")
    return ref


def looks_like_name(ref: str) -> bool:
    """A reference that reads like a name ("Jane Smith", "jsmith") rather than initials or a
    case number. Anything with a digit is a case number; up to four capital letters are initials.
    """
    if any(ch.isdigit() for ch in ref):
        return False
    tokens = [t for t in re.split(r"[\s./_-]+", ref) if t]
    if any(re.fullmatch(r"[A-Z][a-z]+", t) or re.fullmatch(r"[a-z]{3,}", t) for t in tokens):
        return True
    return sum(ch.isalpha() for ch in ref) > 4


NAME_REFUSED = (
    "That looks like a name. Please use the child's initials or a case number, like AB-1234: "
    "your organisation has chosen not to store children's names."
)


def parse_inline(text: str) -> GroupDraft:
    """``key=value`` pairs; a value runs until the next ``key=``."""
    text = clean(text)
    marks = list(ARG.finditer(text))
    if not marks:
        raise BadInput(key="errors.setup_details")
    args: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        args[m.group(1)] = text[m.end() : end].strip()
    known = {
        "child",
        "registered",
        "facilitator",
        "chair",
        "members",
        "prebirth",
        "rcppm",
        "anchor",
    }
    unknown = sorted(set(args) - known)
    if unknown:
        raise BadInput(key="errors.unknown_setting", name=unknown[0])
    for needed in ("child", "registered", "facilitator"):
        if not args.get(needed):
            raise BadInput(key="errors.include_setting", name=needed)
    members: list[tuple[str, str, str]] = []
    for chunk in filter(None, (c.strip() for c in args.get("members", "").split(";"))):
        who, _, agency = chunk.partition(":")
        user_id, name = parse_user(who, "member")
        members.append((user_id, name, agency.strip()[:120]))
    return GroupDraft(
        child_ref=_check_child_ref(args["child"]),
        registered_on=parse_date(args["registered"], "registration date"),
        facilitator=parse_user(args["facilitator"], "facilitator"),
        chair=parse_user(args["chair"], "conference chair") if args.get("chair") else None,
        pre_birth=_yes(args.get("prebirth")),
        rcppm_on=parse_date(args["rcppm"], "RCPPM date") if args.get("rcppm") else None,
        anchor=args.get("anchor", "registration") or "registration",
        members=members,
    )


def _value(values: FormValues, key: str) -> str:
    raw = values.get(key)
    return clean(raw) if isinstance(raw, str) else ""


def parse_form(values: FormValues) -> GroupDraft:
    if not _value(values, "child_ref") or not _value(values, "registered_on"):
        raise BadInput(key="errors.fill_child")
    if not _value(values, "facilitator"):
        raise BadInput(key="errors.choose_facilitator")
    members: list[tuple[str, str, str]] = []
    for i in range(1, MEMBER_ROWS + 1):
        who = _value(values, f"member_{i}")
        if who:
            user_id, name = parse_user(who, "member")
            members.append((user_id, name, _value(values, f"agency_{i}")[:120]))
    chair = _value(values, "chair")
    rcppm = _value(values, "rcppm_on")
    return GroupDraft(
        child_ref=_check_child_ref(_value(values, "child_ref")),
        registered_on=parse_date(_value(values, "registered_on"), "registration date"),
        facilitator=parse_user(_value(values, "facilitator"), "facilitator"),
        chair=parse_user(chair, "conference chair") if chair else None,
        pre_birth=values.get("pre_birth") is True or _yes(_value(values, "pre_birth")),
        rcppm_on=parse_date(rcppm, "RCPPM date") if rcppm else None,
        anchor=_value(values, "anchor") or "registration",
        members=members,
    )


def setup_form(
    channel_id: str, existing: CoreGroup | None, members: list[Member], lang: str = "en"
) -> Form:
    def initial(value: object) -> str | None:
        return None if value is None else str(value)

    fields: list[FormField] = [
        FormField(
            "child_ref",
            t("groups.child_ref", lang),
            hint=t("groups.child_ref_hint", lang),
            initial=initial(existing.child_ref if existing else None),
            max_length=32,
        ),
        FormField(
            "registered_on",
            t("groups.registered_on", lang),
            kind="date",
            initial=initial(existing.registered_on if existing else None),
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
            initial=initial(existing.rcppm_on if existing else None),
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
    answering = [m for m in members if m.role == MemberRole.MEMBER]
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
    return Form(
        form_id=SETUP_FORM,
        title=t("groups.form_title", lang),
        fields=tuple(fields),
        state=channel_id,
        submit=t("dialogue.save", lang),
        intro=(t("groups.form_intro", lang),),
    )


async def register(
    core: Core, actor: Actor, channel_id: str | None, draft: GroupDraft
) -> list[Intent]:
    """Create or update the channel's core group. Admins and Reviewing Officers only.

    In a brand-new organisation the first person to set up a group becomes its admin.
    """
    if not channel_id:
        raise BadInput(key="errors.setup_in_channel")
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
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if not org.child_names_allowed and looks_like_name(draft.child_ref):
            raise BadInput(NAME_REFUSED)
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
                select(CoreGroup).where(
                    CoreGroup.org_id == org.id, CoreGroup.channel_id == channel_id
                )
            )
        ).first()
        if group is not None and not (
            await is_org_admin(s, org, actor.user_id) or actor.user_id == group.facilitator_id
        ):
            raise NotAllowed(key="errors.only_fac_or_admin_change", mention=group.facilitator_id)
        if group is None and not allowed:
            raise NotAllowed(key="errors.only_admin_or_ro_setup")
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
        group.child_ref = draft.child_ref
        group.registered_on = draft.registered_on
        group.pre_birth = draft.pre_birth
        group.rcppm_on = draft.rcppm_on
        group.facilitator_id = draft.facilitator[0]
        group.chair_id = draft.chair[0] if draft.chair else None
        group.schedule_anchor = draft.anchor
        group.status = GroupStatus.ACTIVE
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


async def add_member(core: Core, actor: Actor, channel_id: str | None, args: str) -> list[Intent]:
    """``/reflect add @person Agency`` — facilitator or admin."""
    who, agency = split_person(args)
    user_id, name = parse_user(who, "member")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if not await is_org_admin(s, org, actor.user_id):
            await require_facilitator(s, group, actor, "add members")
        if user_id == group.chair_id or user_id == group.facilitator_id:
            raise BadInput(key="errors.fac_chair_not_asked")
        row = (
            await s.exec(
                select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
            )
        ).first()
        if row is None:
            row = Member(group_id=group.id or 0, user_id=user_id, display_name=name or user_id)
        row.active = True
        row.agency = agency.strip()[:120] or row.agency
        s.add(row)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="member.added",
            subject=f"group:{group.id}",
            at=core.now(),
        )
        lang = await language_for(s, org, actor.user_id)
    added = Paragraph(t_spans("groups.added", lang, person=Mention(user_id, name)))
    return [Reply(Message(text=t("groups.member_added", lang), blocks=(added,)))]


async def set_co_facilitator(
    core: Core, actor: Actor, channel_id: str | None, args: str
) -> list[Intent]:
    """``/reflect cofacilitator @person [remove]`` — the facilitator or an admin.

    A co-facilitator may open, remind, close and cancel like the facilitator, and is not
    asked to reflect. The conference chair can never be one.
    """
    who, rest = split_person(args)
    if not who:
        raise BadInput("Use `/reflect cofacilitator @person` (add `remove` to take it away).")
    user_id, name = parse_user(who, "co-facilitator")
    removing = rest.lower() == "remove"
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if actor.user_id != group.facilitator_id and not await is_org_admin(s, org, actor.user_id):
            raise NotAllowed(
                "Only the facilitator or an admin can choose a co-facilitator.",
                mention=group.facilitator_id,
            )
        if user_id == group.chair_id:
            raise NotAllowed(
                "The conference chair for this child cannot facilitate their supervision."
            )
        if user_id == group.facilitator_id:
            raise BadInput("That person is already the facilitator.")
        row = (
            await s.exec(
                select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
            )
        ).first()
        if removing:
            if row is not None and row.role == MemberRole.CO_FACILITATOR:
                row.active = False
                s.add(row)
        else:
            if row is None:
                row = Member(group_id=group.id or 0, user_id=user_id, display_name=name or user_id)
            row.role = MemberRole.CO_FACILITATOR
            row.agency = row.agency or "Co-facilitator"
            row.active = True
            s.add(row)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="role.co_facilitator_removed" if removing else "role.co_facilitator",
            subject=f"group:{group.id}",
            at=core.now(),
            user=user_id,
        )
    verb = "is no longer" if removing else "is now"
    said = Paragraph((Mention(user_id, name), f" {verb} a co-facilitator of this core group."))
    return [Reply(Message(text="Co-facilitator updated.", blocks=(said,)))]


ROLE_NAMES = {
    "admin": OrgRole.ADMIN,
    "lead_officer": OrgRole.LEAD_OFFICER,
    "facilitator": OrgRole.FACILITATOR,
}


async def grant_role(core: Core, actor: Actor, args: str) -> list[Intent]:
    """``/reflect role @person facilitator|lead_officer|admin [remove]`` — admins only."""
    who, rest = split_person(args)
    parts = rest.split()
    if not who or not parts or parts[0] not in ROLE_NAMES:
        raise BadInput(key="errors.role_usage")
    user_id, name = parse_user(who, "person")
    role = ROLE_NAMES[parts[0]]
    removing = len(parts) > 1 and parts[1] == "remove"
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if not await is_org_admin(s, org, actor.user_id):
            raise NotAllowed(key="errors.only_admin_roles")
        row = (
            await s.exec(
                select(StaffRole).where(
                    StaffRole.org_id == org.id, StaffRole.user_id == user_id, StaffRole.role == role
                )
            )
        ).first()
        if removing and row is not None:
            await s.delete(row)
        elif not removing and row is None:
            s.add(StaffRole(org_id=org.id or 0, user_id=user_id, role=role))
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="role.removed" if removing else "role.granted",
            subject=f"user:{user_id}",
            at=core.now(),
            role=str(role),
        )
        lang = await language_for(s, org, actor.user_id)
    key = "groups.no_longer_has" if removing else "groups.now_has"
    role_name = parts[0].replace("_", " ")
    said = Paragraph(t_spans(key, lang, person=Mention(user_id, name), role=role_name))
    done = t("groups.role_removed" if removing else "groups.role_given", lang)
    return [Reply(Message(text=done, blocks=(said,)))]
