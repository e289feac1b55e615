"""The shape of a question set. Question wording lives in YAML files; this only validates it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

QuestionKind = Literal["yes_no", "text", "scale", "choice"]
Audience = Literal["group", "facilitator"]
# What a question is for in the record, so the record can lay out Appendix 1's sections.
Purpose = Literal[
    "reflection",
    "child_voice",
    "family_voice",
    "contingency",
    "revise_plan",
    "notes",
    "checkin",
    "headline",
    "takeaway",
    "feedback",
]

YES_NO_CHOICES: tuple[str, ...] = ("yes", "no", "not_sure")


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=75)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")
    headline: str = Field(min_length=1, max_length=300)
    guidance: tuple[str, ...] = ()
    kind: QuestionKind
    comment: bool = Field(default=True, description="Whether a comment is invited.")
    audience: Audience = "group"
    purpose: Purpose = "reflection"
    choices: tuple[Choice, ...] = ()
    scale_min: int = 0
    scale_max: int = 10
    hint: str = Field(default="", max_length=150)
    roles: tuple[str, ...] = Field(
        default=(), description="Only members with one of these session roles are asked."
    )

    @model_validator(mode="after")
    def _choices_fit_kind(self) -> Question:
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("a 'choice' question needs at least two choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"'choices' only apply to kind 'choice', not '{self.kind}'")
        if self.kind == "scale" and not self.scale_min < self.scale_max <= 10:
            raise ValueError("a scale runs from scale_min up to at most 10")
        return self

    @property
    def choice_values(self) -> tuple[str, ...]:
        """The machine values a member can pick (empty for free text)."""
        if self.kind == "yes_no":
            return YES_NO_CHOICES
        if self.kind == "choice":
            return tuple(c.value for c in self.choices)
        if self.kind == "scale":
            return tuple(str(n) for n in range(self.scale_min, self.scale_max + 1))
        return ()


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=48, pattern=r"^[a-z0-9_-]+$")
    version: int = Field(ge=1)
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    title: str = Field(min_length=1, max_length=120)
    summary: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1, max_length=1200, description="Why we are doing this.")
    ground_rules: tuple[str, ...] = ()
    opening_prompt: str = Field(default="", max_length=600)
    minutes: int = Field(default=10, ge=1, le=240)
    kind: Literal["supervision", "group_supervision", "learning", "briefing"] = "supervision"
    roles: tuple[str, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        seen: set[str] = set()
        for q in questions:
            if q.id in seen:
                raise ValueError(f"question id '{q.id}' is used twice")
            seen.add(q.id)
        return questions

    @model_validator(mode="after")
    def _roles_declared(self) -> QuestionSet:
        for q in self.questions:
            unknown = set(q.roles) - set(self.roles)
            if unknown:
                raise ValueError(
                    f"question '{q.id}' names roles not declared by the set: {sorted(unknown)}"
                )
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def questions_for(self, role: str | None) -> tuple[Question, ...]:
        """The questions a member with this session role is asked, in order."""
        return tuple(q for q in self.questions if not q.roles or (role in q.roles))
