"""group lifecycle: why a plan ended, and when an action was done

Revision ID: 0005_group_lifecycle
Revises: 0004_inbound_work
Create Date: 2026-12-01 16:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = "0005_group_lifecycle"
down_revision = "0004_inbound_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "core_group", sa.Column("ended_reason", storage.types.SealedText(), nullable=True)
    )
    op.add_column(
        "action_item",
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("action_item") as batch:
        batch.drop_column("done_at")
    with op.batch_alter_table("core_group") as batch:
        batch.drop_column("ended_reason")
