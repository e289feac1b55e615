"""Register a channel as a core group, with its facilitator, conference chair and members.

Two ways in, one validation: the setup form, or inline arguments for power users::

    /reflect setup child=AB-1234 registered=2026-01-05 facilitator=@ro chair=@chair
                   members=@sw:Social care;@hv:Health visiting;@school:Education
                   [prebirth=yes rcppm=2026-02-01] [anchor=registration|last_held]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import audit
from handlers.access import (
    ensure_org,
    group_for_channel,
    has_any_admin,
    is_org_admin,
    require_facilitator,
    staff_roles,
)
from handlers.core import Core
from handlers.errors import BadInput, NotAllowed
from handlers.events import Actor
from handlers.messages import (
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
from handlers.text import clean
from storage.models import CoreGroup, GroupStatus, Member, MemberRole, OrgRole, StaffRole

SETUP_FORM = "group.setup"
MEMBER_ROWS = 8
CHILD_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,31}$")
# Slack: <@U123> or <@U123|name>; Teams/console: @id or a bare id.
USER_TOKEN = re.compile(r"^<@([A-Za-z0-9._:-]+)(?:\|([^>]*))?>$|^@?([A-Za-z0-9._:-]+)$")
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


def parse_date(raw: str, what: str) -> date:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    raise BadInput(f"The {what} '{raw[:20]}' is not a date I understand. Use YYYY-MM-DD.")


def parse_user(raw: str, what: str) -> tuple[str, str]:
    match = USER_TOKEN.match(raw.strip())
    if not match:
        raise BadInput(f"I couldn't tell who the {what} is. Mention them, like @name.")
    user_id = match.group(1) or match.group(3)
    return user_id, (match.group(2) or "").strip()


def _yes(raw: str | bool | None) -> bool:
    if isinstance(raw, bool):
        return raw
    return (raw or "").strip().lower() in ("yes", "y", "true", "1", "on")


def _check_child_ref(raw: str) -> str:
    ref = raw.strip()
    if not CHILD_REF.match(ref):
        raise BadInput(
            "The child reference should be short initials or a case number, "
            "like AB-1234 (letters, numbers, - . / _ only, up to 32 characters)."
        )
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
        raise BadInput("Add the details after `setup`, or run `/reflect setup` alone for a form.")
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
        raise BadInput(f"I don't know the setting '{unknown[0]}'. Try `/reflect help`.")
    for needed in ("child", "registered", "facilitator"):
        if not args.get(needed):
            raise BadInput(f"Please include {needed}=… in the setup.")
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
        raise BadInput("Please fill in the child reference and the registration date.")
    if not _value(values, "facilitator"):
        raise BadInput("Please choose the facilitator.")
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


def setup_form(channel_id: str, existing: CoreGroup | None, members: list[Member]) -> Form:
    def initial(value: object) -> str | None:
        return None if value is None else str(value)

    fields: list[FormField] = [
        FormField(
            "child_ref",
            "Child reference",
            hint="Initials or case number, e.g. AB-1234",
            initial=initial(existing.child_ref if existing else None),
            max_length=32,
        ),
        FormField(
            "registered_on",
            "Date of child protection registration",
            kind="date",
            initial=initial(existing.registered_on if existing else None),
        ),
        FormField(
            "pre_birth",
            "Registered before birth (pre-birth)",
            kind="check",
            initial=bool(existing and existing.pre_birth),
            optional=True,
        ),
        FormField(
            "rcppm_on",
            "Review conference (RCPPM) date, if pre-birth",
            kind="date",
            optional=True,
            initial=initial(existing.rcppm_on if existing else None),
        ),
        FormField(
            "facilitator",
            "Facilitator (Reviewing Officer)",
            kind="user",
            initial=existing.facilitator_id if existing else None,
        ),
        FormField(
            "chair",
            "Conference chair (cannot facilitate)",
            kind="user",
            optional=True,
            initial=existing.chair_id if existing else None,
        ),
        FormField(
            "anchor",
            "Count the next supervision from",
            kind="select",
            options=(
                Option("registration", "Registration date"),
                Option("last_held", "The last supervision held"),
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
                f"Member {i}",
                kind="user",
                optional=True,
                initial=m.user_id if m else None,
            )
        )
        fields.append(
            FormField(
                f"agency_{i}",
                f"Member {i}: agency",
                optional=True,
                hint="e.g. Health visiting, School, Police",
                max_length=120,
                initial=m.agency if m else None,
            )
        )
    return Form(
        form_id=SETUP_FORM,
        title="Set up core group",
        fields=tuple(fields),
        state=channel_id,
        submit="Save",
        intro=(
            "Set up this channel for core group supervision. ",
            "Use a reference for the child, not their name.",
        ),
    )


async def register(
    core: Core, actor: Actor, channel_id: str | None, draft: GroupDraft
) -> list[Intent]:
    """Create or update the channel's core group. Admins and Reviewing Officers only.

    In a brand-new organisation the first person to set up a group becomes its admin.
    """
    if not channel_id:
        raise BadInput("Run `/reflect setup` in the core group's channel.")
    if draft.chair and draft.chair[0] == draft.facilitator[0]:
        raise NotAllowed(
            "The facilitator must not be the conference chair for this child. "
            "Please choose a Reviewing Officer who does not chair the conferences."
        )
    if draft.anchor not in ("registration", "last_held"):
        raise BadInput("The schedule can count from 'registration' or 'last_held'.")
    if draft.pre_birth and draft.rcppm_on and draft.rcppm_on < draft.registered_on:
        raise BadInput("The review conference (RCPPM) can't be before the registration.")
    if len({m[0] for m in draft.members}) != len(draft.members):
        raise BadInput("A member is listed twice. Please list each person once.")
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
            raise NotAllowed(
                "Only the facilitator or an admin can change this core group.",
                mention=group.facilitator_id,
            )
        if group is None and not allowed:
            raise NotAllowed("Only an admin or a Reviewing Officer can set up a core group.")
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
    return [_confirmation(channel_id, draft, created)]


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


def _confirmation(channel_id: str, draft: GroupDraft, created: bool) -> Post:
    spans: list[Span] = [
        "Core group " + ("set up" if created else "updated") + " for ",
        Strong(draft.child_ref),
        ". Facilitator: ",
        Mention(draft.facilitator[0], draft.facilitator[1]),
        f". {len(draft.members)} member(s).",
    ]
    if draft.pre_birth and not draft.rcppm_on:
        spans.append(
            " Add the review conference date when you know it, so I can work out when "
            "supervision is due."
        )
    spans.append(" Start a reflection with `/reflect`.")
    text = f"Core group {'set up' if created else 'updated'} for {draft.child_ref}."
    return Post(channel_id, Message(text=text, blocks=(Paragraph(tuple(spans)),)))


async def add_member(core: Core, actor: Actor, channel_id: str | None, args: str) -> list[Intent]:
    """``/reflect add @person Agency`` — facilitator or admin."""
    who, _, agency = args.strip().partition(" ")
    user_id, name = parse_user(who, "member")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if not await is_org_admin(s, org, actor.user_id):
            await require_facilitator(s, group, actor, "add members")
        if user_id == group.chair_id or user_id == group.facilitator_id:
            raise BadInput("The facilitator and the conference chair are not asked to reflect.")
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
    added = Paragraph(("Added ", Mention(user_id, name), " to the core group."))
    return [Reply(Message(text="Member added.", blocks=(added,)))]


async def set_co_facilitator(
    core: Core, actor: Actor, channel_id: str | None, args: str
) -> list[Intent]:
    """``/reflect cofacilitator @person [remove]`` — the facilitator or an admin.

    A co-facilitator may open, remind, close and cancel like the facilitator, and is not
    asked to reflect. The conference chair can never be one.
    """
    parts = args.split()
    if not parts:
        raise BadInput("Use `/reflect cofacilitator @person` (add `remove` to take it away).")
    user_id, name = parse_user(parts[0], "co-facilitator")
    removing = len(parts) > 1 and parts[1].lower() == "remove"
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
    parts = args.split()
    if len(parts) < 2 or parts[1] not in ROLE_NAMES:
        raise BadInput("Use `/reflect role @person facilitator`, `lead_officer` or `admin`.")
    user_id, name = parse_user(parts[0], "person")
    role = ROLE_NAMES[parts[1]]
    removing = len(parts) > 2 and parts[2] == "remove"
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if not await is_org_admin(s, org, actor.user_id):
            raise NotAllowed("Only an admin can give or remove roles.")
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
    verb = "no longer has" if removing else "now has"
    said = Paragraph((Mention(user_id, name), f" {verb} the {parts[1].replace('_', ' ')} role."))
    return [Reply(Message(text=f"Role {'removed' if removing else 'given'}.", blocks=(said,)))]
