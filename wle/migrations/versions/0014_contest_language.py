"""Each contest's language: what its winners' wikitext for Commons is written in.

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-04 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contests') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=False, server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('contests') as batch:
        batch.drop_column('language')
