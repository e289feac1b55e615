"""Sessions pinned to their questions; submitted answers apart from drafts; the child's life

- reflection_session.questions: the questions a session opened with (backfilled from the set
  installed now, the best record there is of what older sessions asked);
- reflection_session.child_life: "What is life like for this child?" from the close form;
- participation.position: a question id instead of an index into the current set;
- answer.submitted*: what the member submitted (backfilled for those who had submitted).

Revision ID: 0006_session_questions
Revises: 0005_group_lifecycle
Create Date: 2026-12-01 16:00:00
"""

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

import storage.types

revision = "0006_session_questions"
down_revision = "0005_group_lifecycle"
branch_labels = None
depends_on = None

SHIPPED = Path(__file__).resolve().parents[3] / "prompts" / "sets"


def _installed_sets() -> dict[str, list[dict[str, Any]]]:
    """The questions of the English (or only) version of each installed set, as written in
    its YAML file (storage reads the files itself: it imports nothing from ``prompts``)."""
    folders = [SHIPPED]
    extra = os.environ.get("COREGROUP_SETS_DIR")
    if extra:
        folders.append(Path(extra))
    found: dict[str, list[dict[str, Any]]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
                continue
            if raw.get("language", "en") == "en" or raw.get("id") not in found:
                found[str(raw.get("id"))] = [q for q in raw["questions"] if isinstance(q, dict)]
    return found


def _asked(questions: list[dict[str, Any]], role: str | None) -> list[dict[str, Any]]:
    """The questions a member with this session role was asked (as the dialogue picks them)."""
    return [q for q in questions if not q.get("roles") or role in q["roles"]]


def _backfill(conn: Any) -> None:
    sets = _installed_sets()
    session = sa.table(
        "reflection_session",
        sa.column("id", sa.Integer),
        sa.column("set_id", sa.String),
        sa.column("questions", sa.JSON),
    )
    part = sa.table(
        "participation",
        sa.column("id", sa.Integer),
        sa.column("session_id", sa.Integer),
        sa.column("role", sa.String),
        sa.column("old_position", sa.Integer),
        sa.column("position", sa.String),
    )
    set_of: dict[int, str] = {}
    for sid, set_id in conn.execute(sa.select(session.c.id, session.c.set_id)):
        set_of[sid] = set_id
        questions = sets.get(set_id)
        if questions:
            conn.execute(session.update().where(session.c.id == sid).values(questions=questions))
    rows = conn.execute(
        sa.select(part.c.id, part.c.session_id, part.c.role, part.c.old_position)
    ).all()
    for pid, sid, role, index in rows:
        asked = _asked(sets.get(set_of.get(sid, ""), []), role)
        if asked:
            at = asked[min(max(index or 0, 0), len(asked) - 1)]["id"]
            conn.execute(part.update().where(part.c.id == pid).values(position=at))


def upgrade() -> None:
    with op.batch_alter_table("reflection_session") as batch:
        batch.add_column(sa.Column("child_life", storage.types.SealedText(), nullable=True))
        batch.add_column(
            sa.Column("questions", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("participation") as batch:
        batch.alter_column("position", new_column_name="old_position")
    with op.batch_alter_table("participation") as batch:
        batch.add_column(sa.Column("position", sa.String(length=64), nullable=True))
    with op.batch_alter_table("answer") as batch:
        batch.add_column(
            sa.Column("submitted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("submitted_choice", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("submitted_comment", storage.types.SealedText(), nullable=True)
        )
        batch.add_column(
            sa.Column("submitted_skipped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    conn = op.get_bind()
    _backfill(conn)
    # Those who had submitted: what they have now is what they submitted (sealed text copied
    # as it is stored). Nobody else's drafts ever count.
    conn.execute(
        sa.text(
            "UPDATE answer SET submitted = :yes, submitted_choice = choice, "
            "submitted_comment = comment, submitted_skipped = skipped "
            "WHERE EXISTS (SELECT 1 FROM participation p WHERE p.session_id = answer.session_id "
            "AND p.member_id = answer.member_id AND p.finished_at IS NOT NULL)"
        ),
        {"yes": True},
    )
    with op.batch_alter_table("participation") as batch:
        batch.drop_column("old_position")
    with op.batch_alter_table("reflection_session") as batch:
        batch.alter_column("questions", server_default=None)
    with op.batch_alter_table("answer") as batch:
        batch.alter_column("submitted", server_default=None)
        batch.alter_column("submitted_skipped", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        for name in ("submitted_skipped", "submitted_comment", "submitted_choice", "submitted"):
            batch.drop_column(name)
    with op.batch_alter_table("participation") as batch:
        batch.drop_column("position")
        batch.add_column(
            sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("reflection_session") as batch:
        batch.drop_column("questions")
        batch.drop_column("child_life")
