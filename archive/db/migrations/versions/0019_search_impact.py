"""search postings' impact, an index that reads a token's postings best first, and one on
contacts' start times

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The formula of archive/search/impact.py as it stood when this was written:
# 1000 * count / (count + 1.2 * (0.25 + 0.75 * length / 100)), rounded down, at most 999.
_POSTGRESQL = """
UPDATE search_postings AS p
SET impact = LEAST(999, FLOOR(1000.0 * p.term_count
    / (p.term_count + 1.2 * (0.25 + 0.75 * d.length / 100.0))))::integer
FROM search_documents AS d
WHERE d.contact_id = p.contact_id
"""
_SQLITE = """
UPDATE search_postings
SET impact = MIN(999, CAST(1000.0 * term_count
    / (term_count + 1.2 * (0.25 + 0.75 * (
        SELECT d.length FROM search_documents AS d
        WHERE d.contact_id = search_postings.contact_id) / 100.0)) AS INTEGER))
"""


def upgrade() -> None:
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('impact', sa.SmallInteger(), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(_POSTGRESQL if dialect == 'postgresql' else _SQLITE)
    # A posting whose contact has no document row (none should exist) weighs nothing.
    op.execute('UPDATE search_postings SET impact = 0 WHERE impact IS NULL')
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.alter_column('impact', existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_index('ix_search_postings_impact', ['token', 'impact', 'contact_id'], unique=False)
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_started_at', ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_started_at')
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.drop_index('ix_search_postings_impact')
        batch_op.drop_column('impact')
