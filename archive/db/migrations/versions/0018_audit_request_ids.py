"""audit request ids

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The X-Request-ID of the request a record was written in. A plain ADD COLUMN on both
    # databases: on PostgreSQL the records are partitioned by month (0015), and a column added
    # to the parent is added to every partition; SQLite adds it in place, with no table copy.
    # Nullable with no default, so existing records keep their (null) value and their leaf.
    op.add_column('audit_records', sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) drops a column in place too.
    op.drop_column('audit_records', 'request_id')
