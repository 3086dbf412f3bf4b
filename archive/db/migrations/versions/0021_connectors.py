"""connectors: where each source was read up to, its messages by the hour, its latest state

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 06:28:36.342018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connector_cursors",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("updated_at", archive.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "source", name=op.f("pk_connector_cursors")),
    )
    op.create_table(
        "connector_hours",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("hour", archive.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("repeated", sa.Integer(), nullable=False),
        sa.Column("deferred", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "source", "hour", name=op.f("pk_connector_hours")),
    )
    op.create_table(
        "connector_status",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("last_message_at", archive.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", archive.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=True),
        sa.Column("backlog_at", archive.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", archive.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "source", name=op.f("pk_connector_status")),
    )


def downgrade() -> None:
    op.drop_table("connector_status")
    op.drop_table("connector_hours")
    op.drop_table("connector_cursors")
