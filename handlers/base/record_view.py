"""The record of a session as data: everything a record template may use, and nothing else.

``handlers.records`` builds these views from the database and renders them; a ``RecordBlock``
carries one to each platform adapter, which renders it with its own template. They live here,
below both, so a message can carry a record without the messages knowing how one is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from storage.models import MemberRole, SessionStatus

# The Government Security Classifications marking for records about a child.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"

NO_ANSWER = "–"
NO_POSITION = "(no agreed position)"


@dataclass(frozen=True)
class TrajectorySession:
    session_id: int
    date: date
    date_text: str


@dataclass(frozen=True)
class TrajectoryPoint:
    """The group's answer at one supervision: agreed, else the members' majority, else none."""

    answer: str | None
    agreed: bool
    answered: int = 0  # members who chose an answer at that supervision

    @property
    def text(self) -> str:
        if self.answer is None:
            return NO_ANSWER
        return self.answer if self.agreed else f"{self.answer} {NO_POSITION}"


@dataclass(frozen=True)
class TrajectoryRow:
    question_id: str
    headline: str
    points: tuple[TrajectoryPoint, ...]

    @property
    def path(self) -> str:
        """e.g. "No → No → Yes", oldest first."""
        return " → ".join(p.text for p in self.points)


@dataclass(frozen=True)
class TrajectoryView:
    """One group's Yes/No answers across its closed supervisions, oldest first."""

    group_id: int
    child_ref: str
    sessions: tuple[TrajectorySession, ...]
    rows: tuple[TrajectoryRow, ...]

    @property
    def several(self) -> bool:
        """More than one supervision: only then is there a trajectory to show."""
        return len(self.sessions) > 1

    @property
    def dates_text(self) -> str:
        return " → ".join(s.date_text for s in self.sessions)


# Appendix 1's sections, made visible in the record where a question serves one.
SECTION_TITLES: dict[str, str] = {
    "child_voice": "The child's voice",
    "family_voice": "The family's voice",
    "contingency": "Contingency plan",
    "revise_plan": "Revising the plan",
}


class Tally(Mapping[str, int]):
    """Counts per choice label in the set's order; immutable and hashable like the view."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, int] | None = None) -> None:
        self._items = tuple((items or {}).items())

    def __getitem__(self, label: str) -> int:
        for key, count in self._items:
            if key == label:
                return count
        raise KeyError(label)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return dict(self) == dict(other) if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return f"Tally({dict(self._items)!r})"


@dataclass(frozen=True)
class Person:
    """Someone named in the record."""

    name: str
    agency: str = ""
    role: str = MemberRole.MEMBER.value
    attended: bool = True
    # Why someone did not take part, as the record says it (only read when not attended).
    absence: str = "did not take part"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.agency})" if self.agency else self.name


@dataclass(frozen=True)
class MemberAnswer:
    """One member's answer to one question: a choice label and/or their words."""

    member: str
    agency: str
    choice: str | None
    comment: str | None
    skipped: bool = False

    @property
    def label(self) -> str:
        return f"{self.member} ({self.agency})" if self.agency else self.member


@dataclass(frozen=True)
class QuestionView:
    """A question as recorded: what each member said, the tally and the agreed position."""

    id: str
    number: int
    headline: str
    guidance: tuple[str, ...]
    kind: str
    purpose: str
    answers: tuple[MemberAnswer, ...]
    tally: Mapping[str, int]
    split: bool
    agreed: str | None = None
    agreed_notes: str | None = None
    key_point: bool = False

    @property
    def answered(self) -> int:
        """How many members gave an answer or a comment (skips do not count)."""
        return sum(1 for a in self.answers if not a.skipped and (a.choice or a.comment))

    @property
    def section(self) -> str | None:
        """The Appendix 1 section this question opens, if any."""
        return SECTION_TITLES.get(self.purpose)

    @property
    def tally_text(self) -> str:
        """Counts of the choices given, e.g. "3 Yes · 2 No"; empty when nobody chose."""
        return " · ".join(f"{count} {label}" for label, count in self.tally.items() if count)


@dataclass(frozen=True)
class ActionView:
    text: str
    owner: str | None
    owner_agency: str | None
    due: date | None
    due_text: str
    status: str

    @property
    def owner_label(self) -> str:
        if not self.owner:
            return "No owner yet"
        return f"{self.owner} ({self.owner_agency})" if self.owner_agency else self.owner


@dataclass(frozen=True)
class RecordView:
    """Everything a record template may use. Templates get nothing else."""

    session_id: int
    set_id: str
    set_title: str
    status: str
    date: date
    date_text: str
    timezone: str
    facilitator: Person
    attendees: tuple[Person, ...]
    child_ref: str
    opening_prompt: str
    questions: tuple[QuestionView, ...]
    actions: tuple[ActionView, ...]
    family_sharing: str | None
    takeaways: str | None
    themes: tuple[str, ...]
    escalation: str | None
    key_points_only: bool = False
    organisation: str = ""
    attendee_count: int = field(default=0)
    # The group's Yes/No answers across its supervisions up to this one (closed records only).
    trajectory: TrajectoryView | None = None
    language: str = "en"  # the organisation's: the question set's and the Word file's
    protective_marking: str = DEFAULT_MARKING  # on every page of the Word file

    @property
    def takes_part(self) -> tuple[Person, ...]:
        """The members who took part, for the summary's count."""
        return tuple(p for p in self.attendees if p.attended)

    @property
    def show_trajectory(self) -> bool:
        return self.trajectory is not None and self.trajectory.several

    @property
    def draft(self) -> bool:
        """Still open: answers may change until the facilitator closes the session."""
        return self.status == SessionStatus.OPEN.value
