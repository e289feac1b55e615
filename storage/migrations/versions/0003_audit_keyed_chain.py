"""audit_event.hash_alg and audit_event.seq: a keyed (HMAC) chain with unforgettable positions

Rows written before this revision were hashed with plain SHA-256; they are marked ``sha256`` and
numbered in id order. New rows are keyed with COREGROUP_AUDIT_KEY (storage/audit_key.py).

Revision ID: 0003_audit
Revises: 0002
Create Date: 2026-12-01 15:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0003_audit"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(
            sa.Column(
                "hash_alg",
                sqlmodel.sql.sqltypes.AutoString(length=24),
                nullable=False,
                server_default="sha256",
            )
        )
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE audit_event SET seq = "
        "(SELECT COUNT(*) FROM audit_event AS earlier WHERE earlier.id <= audit_event.id)"
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column(
            "hash_alg",
            server_default=None,
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=24),
            existing_nullable=False,
        )
        batch.alter_column("seq", nullable=False, existing_type=sa.Integer())
        batch.create_unique_constraint("uq_audit_event_seq", ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_seq", type_="unique")
        batch.drop_column("seq")
        batch.drop_column("hash_alg")
