"""single sign-on: provider identities, roles from groups, the group mapping, pending logins

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import archive.db.base
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every new column is nullable with no default: existing rows are local accounts, roles
    # granted here and password sessions, as they were.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_issuer', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('sso_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('sso_groups', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_users_sso_issuer_sso_subject', ['sso_issuer', 'sso_subject'])
    op.add_column('user_roles', sa.Column('sso_group', sa.String(length=200), nullable=True))
    op.add_column('access_tokens', sa.Column('sso_sid', sa.String(length=255), nullable=True))
    op.create_index(
        op.f('ix_access_tokens_sso_sid'), 'access_tokens', ['sso_sid'], unique=False
    )
    # The provider group that granted the role an action was allowed through.
    op.add_column('audit_records', sa.Column('role_group', sa.String(length=200), nullable=True))
    op.create_table(
        'sso_group_roles',
        sa.Column('group_name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('requested_by_id', sa.Uuid(), nullable=True),
        sa.Column('requested_at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sa.String(length=80), nullable=True),
        sa.Column('approved_at', archive.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('group_name', 'role', name=op.f('pk_sso_group_roles')),
    )
    op.create_table(
        'sso_pending_logins',
        sa.Column('state_digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('next_path', sa.String(length=500), nullable=False),
        sa.Column('created_at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('sid', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('state_digest', name=op.f('pk_sso_pending_logins')),
    )
    op.create_index(
        op.f('ix_sso_pending_logins_created_at'), 'sso_pending_logins', ['created_at'],
        unique=False,
    )
    op.create_table(
        'sso_used_logout_tokens',
        sa.Column('jti_digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('seen_at', archive.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('jti_digest', name=op.f('pk_sso_used_logout_tokens')),
    )
    op.create_index(
        'ix_sso_used_logout_tokens_seen_at', 'sso_used_logout_tokens', ['seen_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_sso_used_logout_tokens_seen_at', table_name='sso_used_logout_tokens')
    op.drop_table('sso_used_logout_tokens')
    op.drop_index(op.f('ix_sso_pending_logins_created_at'), table_name='sso_pending_logins')
    op.drop_table('sso_pending_logins')
    op.drop_table('sso_group_roles')
    op.drop_column('audit_records', 'role_group')
    op.drop_index(op.f('ix_access_tokens_sso_sid'), table_name='access_tokens')
    op.drop_column('access_tokens', 'sso_sid')
    op.drop_column('user_roles', 'sso_group')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_sso_issuer_sso_subject', type_='unique')
        batch_op.drop_column('sso_groups')
        batch_op.drop_column('sso_subject')
        batch_op.drop_column('sso_issuer')
