"""The foundation: contests, people, entries, uploaders and syncs.

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 07:06:58.656983
"""

from alembic import op
import sqlalchemy as sa
import wle.models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('starts_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('ends_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('min_megapixels', sa.Float(), nullable=False),
    sa.Column('created_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contests')),
    sa.UniqueConstraint('slug', name=op.f('uq_contests_slug'))
    )
    op.create_table('uploaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('registered_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('edit_count', sa.Integer(), nullable=True),
    sa.Column('missing', sa.Boolean(), nullable=False),
    sa.Column('fetched_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploaders')),
    sa.UniqueConstraint('name', name=op.f('uq_uploaders_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('wiki_sub', sa.String(length=64), nullable=True),
    sa.Column('created_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username')),
    sa.UniqueConstraint('wiki_sub', name=op.f('uq_users_wiki_sub'))
    )
    op.create_table('contest_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_contest_categories_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_categories')),
    sa.UniqueConstraint('contest_id', 'name', name=op.f('uq_contest_categories_contest_id'))
    )
    op.create_table('contest_roles',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('added_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_contest_roles_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contest_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', 'user_id', 'role', name=op.f('pk_contest_roles'))
    )
    with op.batch_alter_table('contest_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_roles_user_id'), ['user_id'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('pageid', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('uploader', sa.String(length=255), nullable=True),
    sa.Column('uploaded_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('reuploaded', sa.Boolean(), nullable=False),
    sa.Column('last_uploaded_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mime', sa.String(length=127), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('license', sa.String(length=255), nullable=True),
    sa.Column('license_url', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('date_taken', sa.String(length=64), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('credit', sa.Text(), nullable=True),
    sa.Column('artist', sa.Text(), nullable=True),
    sa.Column('artist_user', sa.String(length=255), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('file_url', sa.Text(), nullable=False),
    sa.Column('page_url', sa.Text(), nullable=False),
    sa.Column('thumb_source_url', sa.Text(), nullable=True),
    sa.Column('thumb_key', sa.String(length=32), nullable=False),
    sa.Column('thumb_state', sa.String(length=16), nullable=False),
    sa.Column('thumb_error', sa.Text(), nullable=True),
    sa.Column('thumb_claimed_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('first_seen_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_sync_id', sa.Integer(), nullable=True),
    sa.Column('gone_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('gone_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entries_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('contest_id', 'pageid', name=op.f('uq_entries_contest_id'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_contest_gone', ['contest_id', 'gone_at'], unique=False)
        batch_op.create_index('ix_entries_contest_sha1', ['contest_id', 'sha1'], unique=False)
        batch_op.create_index('ix_entries_contest_thumb', ['contest_id', 'thumb_state'], unique=False)
        batch_op.create_index('ix_entries_contest_uploaded', ['contest_id', 'uploaded_at', 'id'], unique=False)
        batch_op.create_index('ix_entries_contest_uploader', ['contest_id', 'uploader'], unique=False)

    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('started_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('files_seen', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('gone', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_sync_runs_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sync_runs_contest_created', ['contest_id', 'created_at'], unique=False)
        batch_op.create_index('uq_sync_runs_one_live', ['contest_id'], unique=True,
                              sqlite_where=sa.text("state IN ('queued', 'running')"),
                              postgresql_where=sa.text("state IN ('queued', 'running')"))



def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_sync_runs_one_live')
        batch_op.drop_index('ix_sync_runs_contest_created')

    op.drop_table('sync_runs')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_contest_uploader')
        batch_op.drop_index('ix_entries_contest_uploaded')
        batch_op.drop_index('ix_entries_contest_thumb')
        batch_op.drop_index('ix_entries_contest_sha1')
        batch_op.drop_index('ix_entries_contest_gone')

    op.drop_table('entries')
    with op.batch_alter_table('contest_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_roles_user_id'))

    op.drop_table('contest_roles')
    op.drop_table('contest_categories')
    op.drop_table('users')
    op.drop_table('uploaders')
    op.drop_table('contests')
