"""Migration 0006 on existing data: sessions are pinned to the set installed at upgrade, each
member's place becomes a question id, and only those who had submitted have submitted answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from prompts.loader import load_catalogue
from storage.db import to_sync_url
from storage.migrate import upgrade
from tests.factories.databases import throwaway_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("pg_url")  # skips or fails as the other PostgreSQL tests do
    with throwaway_postgres("cg_mig6") as url:
        yield url


OLD_ROWS = [
    "INSERT INTO organisation (id, platform, external_id, name, timezone, nation, language, "
    "child_names_allowed, created_at) VALUES (1, 'console', 'o', '', 'Europe/London', 'ENG', "
    "'en', false, '2026-01-01 00:00:00')",
    "INSERT INTO core_group (id, org_id, child_ref, registered_on, pre_birth, facilitator_id, "
    "channel_id, status, timezone, schedule_anchor, created_at) VALUES (1, 1, 'AB-1', "
    "'2026-01-01', false, 'ro', 'cg', 'active', 'Europe/London', 'registration', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO member (id, group_id, user_id, display_name, agency, role, active) VALUES "
    "(1, 1, 'sw', 'Sam', '', 'member', true), (2, 1, 'hv', 'Hana', '', 'member', true)",
    "INSERT INTO reflection_session (id, group_id, set_id, set_version, status, opened_by, "
    "opened_at, themes, record_final) VALUES (1, 1, 'appendix1', 1, 'open', 'ro', "
    "'2026-01-02 00:00:00', '[]', false)",
    "INSERT INTO participation (id, session_id, member_id, state, position, return_to_review, "
    "updated_at, version, finished_at) VALUES "
    "(1, 1, 1, 'done', 13, false, '2026-01-02 00:00:00', 1, '2026-01-02 01:00:00'), "
    "(2, 1, 2, 'answering', 2, false, '2026-01-02 00:00:00', 1, NULL)",
    "INSERT INTO answer (id, session_id, member_id, question_id, choice, comment, skipped, "
    "answered_at, updated_at) VALUES "
    "(1, 1, 1, 'risks_current', 'yes', 'said and submitted', false, '2026-01-02 00:00:00', "
    "'2026-01-02 00:00:00'), "
    "(2, 1, 2, 'risks_current', 'no', 'a draft', false, '2026-01-02 00:00:00', "
    "'2026-01-02 00:00:00')",
]


def test_existing_rows_are_pinned_placed_by_id_and_only_submitted_answers_count(
    fresh_url: str,
) -> None:
    upgrade(fresh_url, "0002")
    engine = create_engine(to_sync_url(fresh_url))
    try:
        with engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.execute(text(statement))
        upgrade(fresh_url)
        with engine.connect() as conn:
            [questions] = conn.execute(text("SELECT questions FROM reflection_session")).one()
            positions = dict(conn.execute(text("SELECT id, position FROM participation")).all())
            submitted = conn.execute(
                text(
                    "SELECT member_id, submitted, submitted_choice, submitted_comment "
                    "FROM answer ORDER BY member_id"
                )
            ).all()
    finally:
        engine.dispose()
    if isinstance(questions, str):
        import json

        questions = json.loads(questions)
    appendix1 = load_catalogue().get("appendix1")
    assert [q["id"] for q in questions] == [q.id for q in appendix1.questions]
    assert positions == {1: appendix1.questions[13].id, 2: "plan_working"}
    assert [tuple(r) for r in submitted] == [
        (1, True, "yes", "said and submitted"),
        (2, False, None, None),
    ]
