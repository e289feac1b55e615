"""Reading what people type: dates and people, the same way in every command and form.

Anything that cannot be read is refused with a kind ``BadInput`` that names what was expected.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from handlers.base.errors import BadInput

# Slack: <@U123> or <@U123|name>; Teams/console: @id or a bare id.
USER_TOKEN = re.compile(r"^<@([A-Za-z0-9._:-]+)(?:\|([^>]*))?>$|^@?([A-Za-z0-9._:-]+)$")


def parse_date(raw: str, what: str) -> date:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    raise BadInput(key="errors.bad_date", what=what, raw=raw[:20])


def parse_user(raw: str, what: str) -> tuple[str, str]:
    match = USER_TOKEN.match(raw.strip())
    if not match:
        raise BadInput(key="errors.who", what=what)
    user_id = match.group(1) or match.group(3)
    return user_id, (match.group(2) or "").strip()


def split_person(args: str) -> tuple[str, str]:
    """The leading person token and the rest: ``<@U1|Sam Patel> Police`` or ``@sam Police``."""
    args = args.strip()
    if args.startswith("<@") and ">" in args:
        end = args.index(">") + 1
        return args[:end], args[end:].strip()
    who, _, rest = args.partition(" ")
    return who, rest.strip()
