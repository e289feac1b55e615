"""Contract: every record template renders every question set, and escaping holds per target."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jinja2 import StrictUndefined, UndefinedError

from handlers.base.core import Core
from handlers.records.build import build_record, render_record
from prompts.loader import Catalogue
from prompts.render import (
    TARGETS,
    TEMPLATES_DIR,
    environment,
    escape_for,
    escape_markdown,
    escape_slack,
    escape_teams,
    load_themes,
)
from prompts.schema import QuestionSet
from tests.factories.rows import (
    Person,
    add_action,
    add_answer,
    add_group,
    add_members,
    add_organisation,
    add_position,
    add_session,
)


async def _seed_any_set(core: Core, qset: QuestionSet) -> int:
    """A closed session of this set: two members answering every question differently."""
    where = f"{qset.id}-{qset.language}"
    async with core.db.write() as s:
        org = await add_organisation(s, external_id=f"T-{where}", language=qset.language)
        group = await add_group(
            s, org, child_ref="CD-5678", facilitator_id="F1", channel_id=f"C-{where}"
        )
        people = await add_members(
            s, group, [Person("U0", "Ada", "School"), Person("U1", "Ben", "Health")]
        )
        session = await add_session(
            s,
            group,
            set_id=qset.id,
            set_version=qset.version,
            closed_at=datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
            themes=["plan_stalled"],
            family_sharing="Shared at the next visit.",
        )
        for q in qset.questions:
            values = q.choice_values
            for i, m in enumerate(people):
                choice = values[i % len(values)] if values else None
                await add_answer(s, session, m, q.id, choice, f"{m.display_name} on {q.id}.")
            await add_position(
                s,
                session,
                q.id,
                values[0] if values else None,
                notes=f"Agreed on {q.id}",
                key_point=q.kind != "text",
            )
        await add_action(
            s, session, "Follow up", owner_member_id=people[0].id, due_on=date(2026, 4, 1)
        )
        return session.id or 0


def test_there_is_one_template_source_per_target() -> None:
    assert sorted(p.name for p in TEMPLATES_DIR.glob("record.*.j2")) == sorted(
        f"record.{t}.j2" for t in TARGETS
    )
    for target in TARGETS:
        env = environment(target)
        assert env.undefined is StrictUndefined
        assert env.autoescape is (target == "html")


@pytest.mark.parametrize("key_points_only", [False, True])
async def test_every_target_renders_every_question_set(
    core: Core, catalogue: Catalogue, key_points_only: bool
) -> None:
    assert catalogue.sets, "no question sets loaded"
    for qset in catalogue.sets.values():
        session_id = await _seed_any_set(core, qset)
        for private in (False, True):
            view = await build_record(
                core, session_id, key_points_only=key_points_only, include_private=private
            )
            expected = [q for q in qset.questions if private or q.audience == "group"]
            assert [q.id for q in view.questions] == [q.id for q in expected]
            for target in TARGETS:
                text = render_record(view, target)
                where = f"{qset.id} {target} key_points_only={key_points_only}"
                assert "Record of Core Group Supervision/Reflection" in text, where
                assert "CD" in text and "5678" in text, where
                positions = [q for q in view.questions if q.agreed or q.agreed_notes]
                assert len(text.split("Agreed position")) - 1 == len(positions), where
                for q in view.questions:
                    assert f"{q.number}. " in text, where
                    if q.split:
                        assert "Split view: 1 " in text, where
                    kept = not key_points_only or q.purpose in ("child_voice", "family_voice")
                    shown = escape_for(target, f"Ada on {q.id}.")
                    assert (shown in text) is kept, (where, q.id)


def test_a_template_that_names_a_missing_field_fails_loudly() -> None:
    template = environment("markdown").from_string("{{ r.no_such_field }}")
    with pytest.raises(UndefinedError):
        template.render(r=object())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("@here now", "@\u2060here now"),
        ("@Channel", "@\u2060Channel"),
        ("*bold*", "\u200b*bold\u200b*"),
        ("a.b@here.com", "a.b@here.com"),  # an email address is not a broadcast
    ],
)
def test_slack_escaping(raw: str, expected: str) -> None:
    assert escape_slack(raw) == expected


def test_markdown_and_teams_escape_every_metacharacter() -> None:
    raw = "\\ ` * _ { } [ ] ( ) # + - . ! | ~ = <at>x</at> &"
    md = escape_markdown(raw)
    # Everything that can format anywhere is escaped; punctuation that cannot act mid-line is
    # left alone so the record stays readable.
    assert md == (
        "\\\\ \\` \\* \\_ { } \\[ \\] ( ) # + - . ! \\| \\~ = &lt;at&gt;x&lt;/at&gt; &amp;"
    )
    # At the start of a line the block markers act, so there they are escaped.
    assert escape_markdown("- a\n+ b\n= c\n12. d\n3) e") == (
        "\\- a\\\n\\+ b\\\n\\= c\\\n12\\. d\\\n3\\) e"
    )
    assert escape_teams(raw) == md
    assert escape_markdown("> quote\n\n\n# heading") == "&gt; quote\\\n\\# heading"
    assert escape_teams("line one\nline two") == "line one<br>line two"


def test_themes_taxonomy_has_the_shipped_ids() -> None:
    themes = load_themes()
    assert list(themes) == [
        "plan_stalled",
        "parental_engagement",
        "expert_advice_needed",
        "professional_disagreement",
        "resources",
        "communication",
        "child_voice_missing",
        "risk_change",
        "other",
    ]
    assert all(label and label[0].isupper() for label in themes.values())
