"""core_group.planned_on: the date the facilitator picked for the supervision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("core_group", sa.Column("planned_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("core_group") as batch:
        batch.drop_column("planned_on")
