"""Statistics: entries' usage on the wikis, previously pictured site IDs, an index for the figures.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:40:00
"""

from alembic import op
import sqlalchemy as sa
import wle.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_usage',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('fetched_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_usage_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_usage'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_statistics', ['contest_id', 'uploaded_at', 'gone_at', 'uploader', 'width', 'height', 'id'], unique=False)

    op.create_table('previously_pictured_sites',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=100), nullable=False),
    sa.Column('added_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_previously_pictured_sites_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', 'site_id', name=op.f('pk_previously_pictured_sites'))
    )


def downgrade() -> None:
    op.drop_table('previously_pictured_sites')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_statistics')

    op.drop_table('entry_usage')
