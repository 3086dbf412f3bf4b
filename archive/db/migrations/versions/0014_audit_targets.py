"""audit targets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db.base

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Records indexed per statement while filling the table from what the trail already holds.
BATCH = 50_000

# One row per id of a record's JSON list; ON CONFLICT keeps a list that names an id twice
# (which no writer produces) from stopping the upgrade.
BACKFILL = {
    'postgresql': """
        INSERT INTO audit_targets (record_id, record_at, target_type, target_id)
        SELECT r.id, r.at, r.target_type, t.value
        FROM audit_records AS r
        CROSS JOIN LATERAL json_array_elements_text(r.target_ids::json) AS t(value)
        WHERE r.id > :low AND r.id <= :high
        ON CONFLICT DO NOTHING
    """,
    'sqlite': """
        INSERT INTO audit_targets (record_id, record_at, target_type, target_id)
        SELECT r.id, r.at, r.target_type, t.value
        FROM audit_records AS r, json_each(r.target_ids) AS t
        WHERE r.id > :low AND r.id <= :high
        ON CONFLICT DO NOTHING
    """,
}


def upgrade() -> None:
    # No foreign key to audit_records: the trail is to be pruned by whole months, and a month
    # of targets goes with its month of records, not row by row through a constraint.
    op.create_table('audit_targets',
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('record_at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('target_id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('record_id', 'target_id', name=op.f('pk_audit_targets'))
    )
    backfill()
    # Built after the rows are in: one sort instead of an index updated row by row.
    with op.batch_alter_table('audit_targets', schema=None) as batch_op:
        batch_op.create_index('ix_audit_targets_target_id', ['target_id', 'record_id', 'record_at'], unique=False)

    # The auditor's filters read newest first, a page at a time: an index that starts with the
    # filtered column and goes on in id order gives a page without reading every match.
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_records_actor')
        batch_op.drop_index('ix_audit_records_action')
        batch_op.create_index('ix_audit_records_actor_id', ['actor', 'id'], unique=False)
        batch_op.create_index('ix_audit_records_action_id', ['action', 'id'], unique=False)


def backfill() -> None:
    bind = op.get_bind()
    statement = sa.text(BACKFILL[bind.dialect.name])
    low, high = bind.execute(sa.text('SELECT min(id), max(id) FROM audit_records')).one()
    if low is None:
        return
    # Ranges of ids rather than LIMIT and OFFSET: each batch is one range read of the key.
    for start in range(low - 1, high, BATCH):
        bind.execute(statement, {'low': start, 'high': start + BATCH})


def downgrade() -> None:
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_records_action_id')
        batch_op.drop_index('ix_audit_records_actor_id')
        batch_op.create_index('ix_audit_records_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_records_actor', ['actor'], unique=False)

    with op.batch_alter_table('audit_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_targets_target_id')

    op.drop_table('audit_targets')
