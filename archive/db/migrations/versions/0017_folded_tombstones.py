"""folded tombstones

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db.base

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A run's record keeps the count and digest of the tombstones folded into it.
    with op.batch_alter_table('deletion_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folded', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('folded_at', archive.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('folded_digest', sa.String(length=64), nullable=True))
    # Which contacts a run or an erasure claimed: its record's list, the sweep's takeover of
    # an interrupted claim and the fold all look them up by claimant.
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_claimed_by', ['claimed_by', 'state'], unique=False)
        # Deleting a contact row sets NULL in those linked to it by `same_key_as_id`: the
        # database looks them up by this index, not by reading the whole table.
        batch_op.create_index(
            'ix_contacts_same_key_as',
            ['same_key_as_id'],
            unique=False,
            postgresql_where=sa.text('same_key_as_id IS NOT NULL'),
            sqlite_where=sa.text('same_key_as_id IS NOT NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_same_key_as')
        batch_op.drop_index('ix_contacts_claimed_by')
    with op.batch_alter_table('deletion_runs', schema=None) as batch_op:
        batch_op.drop_column('folded_digest')
        batch_op.drop_column('folded_at')
        batch_op.drop_column('folded')
