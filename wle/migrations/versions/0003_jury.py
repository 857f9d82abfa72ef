"""The jury: rounds, their jurors and entries, tasks (then votes), winners and the winners page.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:24:15.325736
"""

from alembic import op
import sqlalchemy as sa
import wle.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('quorum', sa.Integer(), nullable=False),
    sa.Column('rank_top', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('created_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_rounds_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds')),
    sa.UniqueConstraint('contest_id', 'number', name=op.f('uq_rounds_contest_id'))
    )
    op.create_table('winners_pages',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('published_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_winners_pages_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', name=op.f('pk_winners_pages'))
    )
    op.create_table('round_entries',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('source_round_id', sa.Integer(), nullable=True),
    sa.Column('added_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_round_entries_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_entries_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_round_id'], ['rounds.id'], name=op.f('fk_round_entries_source_round_id_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('round_id', 'entry_id', name=op.f('pk_round_entries'))
    )
    with op.batch_alter_table('round_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_entries_entry_id'), ['entry_id'], unique=False)

    op.create_table('round_jurors',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('removed_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_jurors_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_round_jurors_user_id_users')),
    sa.PrimaryKeyConstraint('round_id', 'user_id', name=op.f('pk_round_jurors'))
    )
    with op.batch_alter_table('round_jurors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_jurors_user_id'), ['user_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('voted_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('changed_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('skipped_seq', sa.Integer(), nullable=False),
    sa.Column('order_key', sa.Integer(), nullable=False),
    sa.Column('created_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_tasks_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_tasks_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tasks_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('round_id', 'user_id', 'entry_id', name=op.f('uq_tasks_round_id'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_round_entry_value', ['round_id', 'entry_id', 'value'], unique=False)
        batch_op.create_index('ix_tasks_round_user_value', ['round_id', 'user_id', 'value'], unique=False)

    op.create_table('winners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_winners_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_winners_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_winners')),
    sa.UniqueConstraint('contest_id', 'entry_id', name=op.f('uq_winners_contest_id'))
    )
    with op.batch_alter_table('winners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_winners_contest_id'), ['contest_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('winners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_winners_contest_id'))

    op.drop_table('winners')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_round_user_value')
        batch_op.drop_index('ix_tasks_round_entry_value')

    op.drop_table('tasks')
    with op.batch_alter_table('round_jurors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_jurors_user_id'))

    op.drop_table('round_jurors')
    with op.batch_alter_table('round_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_entries_entry_id'))

    op.drop_table('round_entries')
    op.drop_table('winners_pages')
    op.drop_table('rounds')
