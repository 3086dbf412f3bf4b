"""search postings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Blind tokens only: a token is 64 bits of an HMAC of a term, never the term (docs/search.md).
    op.create_table('search_postings',
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('term_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_search_postings_contact_id_contacts')),
    sa.PrimaryKeyConstraint('token', 'contact_id', name=op.f('pk_search_postings'))
    )
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.create_index('ix_search_postings_contact_id', ['contact_id'], unique=False)

    op.create_table('search_documents',
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_search_documents_contact_id_contacts')),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_key_id'), ['key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_documents_key_id'))
    op.drop_table('search_documents')
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.drop_index('ix_search_postings_contact_id')
    op.drop_table('search_postings')
