"""inbound_work: acknowledged deliveries kept until handled (durable inbound work)

Revision ID: 0004_inbound_work
Revises: 0003_audit
Create Date: 2026-12-01 15:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0004_inbound_work"
down_revision = "0003_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("payload", storage.types.SealedText(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inbound_work", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_work_lease_until"), ["lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_work", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_work_lease_until"))
    op.drop_table("inbound_work")
