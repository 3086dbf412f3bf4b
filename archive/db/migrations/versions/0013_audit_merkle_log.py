"""audit merkle log

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db.base

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Records are appended without reading the one before: the chain's hashes are only on the
    # records written before this revision, and the sequencer gives each record its leaf.
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_index', sa.BigInteger(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(length=32), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.LargeBinary(length=32), nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_records_leaf_index'), ['leaf_index'], unique=False)
        batch_op.create_index(
            'ix_audit_records_unsealed',
            ['id'],
            unique=False,
            postgresql_where=sa.text('leaf_index IS NULL'),
            sqlite_where=sa.text('leaf_index IS NULL'),
        )

    op.create_table('audit_tree_nodes',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'position', name=op.f('pk_audit_tree_nodes'))
    )
    op.create_table('audit_tree_heads',
    sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_tree_heads'))
    )
    op.create_table('audit_prunes',
    sa.Column('leaf_end', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('before', archive.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('leaf_end', name=op.f('pk_audit_prunes'))
    )
    op.create_table('audit_leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('expires_at', archive.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_audit_leases'))
    )


def downgrade() -> None:
    op.drop_table('audit_leases')
    op.drop_table('audit_prunes')
    op.drop_table('audit_tree_heads')
    op.drop_table('audit_tree_nodes')
    # Records appended since have no chain hash and the old schema cannot hold them; an audit
    # trail is never cut to fit a downgrade.
    unchained = op.get_bind().scalar(sa.text('SELECT count(*) FROM audit_records WHERE hash IS NULL'))
    if unchained:
        raise RuntimeError(
            f'{unchained} audit records were written by the Merkle log; downgrading would lose them'
        )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_records_unsealed')
        batch_op.drop_index(batch_op.f('ix_audit_records_leaf_index'))
        batch_op.alter_column('hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.drop_column('leaf_index')
