"""The periodic sync: each contest's interval, syncs of the changes only, thumbnail claims by job.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 08:00:00
"""

from alembic import op
import sqlalchemy as sa
import wle.models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contests') as batch:
        batch.add_column(sa.Column('sync_interval_minutes', sa.Integer(), server_default='60', nullable=False))
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('since', wle.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('thumb_claimed_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entries') as batch:
        batch.drop_column('thumb_claimed_by')
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('since')
    with op.batch_alter_table('contests') as batch:
        batch.drop_column('sync_interval_minutes')
