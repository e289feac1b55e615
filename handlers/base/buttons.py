"""Button names that one capability shows and another answers.

An action reminder (scheduling) and the action list (records) both carry **Done**; the
router sends either press to the same use case.
"""

from __future__ import annotations

ACTION_DONE = "action.done"
ACTION_NOT_YET = "action.not_yet"
REMOVE_YES = "member.remove"
REMOVE_NO = "member.keep"
