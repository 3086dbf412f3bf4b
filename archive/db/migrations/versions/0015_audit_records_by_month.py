"""audit records by month

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 16:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    'id, at, actor, actor_id, role, action, outcome, target_type, target_ids, purpose, '
    'source_address, prev_hash, hash, leaf_index'
)
# The indexes of the records, as the models declare them: made on the parent, PostgreSQL makes
# them on every partition.
INDEXES = (
    'CREATE INDEX ix_audit_records_at ON audit_records (at)',
    'CREATE INDEX ix_audit_records_actor_id ON audit_records (actor, id)',
    'CREATE INDEX ix_audit_records_action_id ON audit_records (action, id)',
    'CREATE INDEX ix_audit_records_leaf_index ON audit_records (leaf_index)',
    'CREATE INDEX ix_audit_records_unsealed ON audit_records (id) WHERE leaf_index IS NULL',
)
MONTHS_AHEAD = 2


def upgrade() -> None:
    # The hash chain's unique indexes refused forks while records were chained; no record is
    # chained any more, and a partitioned table can only have unique indexes that hold `at`.
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('uq_audit_records_prev_hash')
        batch_op.drop_index('uq_audit_records_hash')
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite has no partitions: pruning deletes rows there
    bind = op.get_bind()
    op.execute('ALTER TABLE audit_records RENAME TO audit_records_unpartitioned')
    op.execute('ALTER TABLE audit_records_unpartitioned RENAME CONSTRAINT pk_audit_records TO pk_audit_records_unpartitioned')
    for (name,) in bind.execute(sa.text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_records_unpartitioned' "
        "AND indexname <> 'pk_audit_records_unpartitioned'"
    )).all():
        op.execute(f'DROP INDEX "{name}"')
    op.execute("""
        CREATE TABLE audit_records (
            id BIGINT NOT NULL DEFAULT nextval('audit_records_id_seq'),
            at TIMESTAMP WITH TIME ZONE NOT NULL,
            actor VARCHAR(150) NOT NULL,
            actor_id UUID,
            role VARCHAR(32),
            action VARCHAR(64) NOT NULL,
            outcome VARCHAR(16) NOT NULL,
            target_type VARCHAR(32),
            target_ids TEXT NOT NULL,
            purpose VARCHAR(200),
            source_address VARCHAR(64),
            prev_hash BYTEA,
            hash BYTEA,
            leaf_index BIGINT,
            CONSTRAINT pk_audit_records PRIMARY KEY (id, at)
        ) PARTITION BY RANGE (at)
    """)
    op.execute('CREATE TABLE audit_records_default PARTITION OF audit_records DEFAULT')
    first, last = bind.execute(sa.text('SELECT min(at), max(at) FROM audit_records_unpartitioned')).one()
    now = datetime.now(UTC)
    month = _month(first or now)
    end = _month(max(last or now, now))
    for _ in range(MONTHS_AHEAD):
        end = _next(end)
    while month <= end:
        _partition(month)
        month = _next(month)
    op.execute(f'INSERT INTO audit_records ({COLUMNS}) SELECT {COLUMNS} FROM audit_records_unpartitioned')
    op.execute('ALTER SEQUENCE audit_records_id_seq OWNED BY audit_records.id')
    op.execute('DROP TABLE audit_records_unpartitioned')
    for statement in INDEXES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE audit_records RENAME TO audit_records_partitioned')
        op.execute('ALTER TABLE audit_records_partitioned RENAME CONSTRAINT pk_audit_records TO pk_audit_records_partitioned')
        for statement in INDEXES:
            name = statement.split()[2]
            op.execute(f'DROP INDEX "{name}"')
        op.execute("""
            CREATE TABLE audit_records (
                id BIGINT NOT NULL DEFAULT nextval('audit_records_id_seq'),
                at TIMESTAMP WITH TIME ZONE NOT NULL,
                actor VARCHAR(150) NOT NULL,
                actor_id UUID,
                role VARCHAR(32),
                action VARCHAR(64) NOT NULL,
                outcome VARCHAR(16) NOT NULL,
                target_type VARCHAR(32),
                target_ids TEXT NOT NULL,
                purpose VARCHAR(200),
                source_address VARCHAR(64),
                prev_hash BYTEA,
                hash BYTEA,
                leaf_index BIGINT,
                CONSTRAINT pk_audit_records PRIMARY KEY (id)
            )
        """)
        op.execute(f'INSERT INTO audit_records ({COLUMNS}) SELECT {COLUMNS} FROM audit_records_partitioned')
        op.execute('ALTER SEQUENCE audit_records_id_seq OWNED BY audit_records.id')
        op.execute('DROP TABLE audit_records_partitioned')
        for statement in INDEXES:
            op.execute(statement)
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index('uq_audit_records_hash', ['hash'], unique=True)
        batch_op.create_index('uq_audit_records_prev_hash', ['prev_hash'], unique=True)


def _month(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _partition(month: datetime) -> None:
    # The same names and bounds as archive.audit.partitions makes later, month by month.
    op.execute(
        f"CREATE TABLE audit_records_{month:%Y_%m} PARTITION OF audit_records "
        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next(month).isoformat()}')"
    )
