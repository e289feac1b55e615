"""A core group as someone described it, before it is saved: from the setup form or from
``/reflect setup child=… registered=… facilitator=@… members=@…:Agency;…``, checked here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from handlers.base.errors import BadInput
from handlers.base.messages import FormValues
from handlers.base.parsing import parse_date, parse_user
from handlers.base.text import clean

MEMBER_ROWS = 8  # member rows on the setup form
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
