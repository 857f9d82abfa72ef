"""Contest rules: per-contest settings, protected sites, and each entry's reasons, decision,
file-page site IDs and perceptual hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:23:36.633902
"""

from alembic import op
import sqlalchemy as sa
import wle.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contest_rules',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('checked_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_contest_rules_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', name=op.f('pk_contest_rules'))
    )
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('region', sa.String(length=255), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('wikidata', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_sites_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('contest_id', 'site_id', name=op.f('uq_sites_contest_id'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index('ix_sites_contest_region', ['contest_id', 'region'], unique=False)

    op.create_table('entry_checks',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('rules_eligible', sa.Boolean(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('checked_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=255), nullable=True),
    sa.Column('decided_at', wle.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entry_checks_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_checks_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_checks'))
    )
    with op.batch_alter_table('entry_checks', schema=None) as batch_op:
        batch_op.create_index('ix_entry_checks_contest_eligible', ['contest_id', 'eligible'], unique=False)

    op.create_table('entry_fingerprints',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('perceptual_hash', sa.String(length=16), nullable=False),
    sa.Column('made_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entry_fingerprints_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_fingerprints_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_fingerprints'))
    )
    with op.batch_alter_table('entry_fingerprints', schema=None) as batch_op:
        batch_op.create_index('ix_entry_fingerprints_contest', ['contest_id'], unique=False)

    op.create_table('entry_reasons',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entry_reasons_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_reasons_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'code', name=op.f('pk_entry_reasons'))
    )
    with op.batch_alter_table('entry_reasons', schema=None) as batch_op:
        batch_op.create_index('ix_entry_reasons_contest_code', ['contest_id', 'code', 'entry_id'], unique=False)

    op.create_table('entry_sites',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=100), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entry_sites_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_sites_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'site_id', name=op.f('pk_entry_sites'))
    )
    with op.batch_alter_table('entry_sites', schema=None) as batch_op:
        batch_op.create_index('ix_entry_sites_contest_site', ['contest_id', 'site_id'], unique=False)

    op.create_table('entry_wikitext',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('revid', sa.Integer(), nullable=False),
    sa.Column('wikitext', sa.Text(), nullable=False),
    sa.Column('fetched_at', wle.models.base.UTCDateTime(), nullable=False),
    sa.Column('read_with', sa.String(length=512), nullable=True),
    sa.Column('template_found', sa.Boolean(), nullable=False),
    sa.Column('malformed', sa.JSON(none_as_null=True), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_entry_wikitext_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_wikitext_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_wikitext'))
    )
    with op.batch_alter_table('entry_wikitext', schema=None) as batch_op:
        batch_op.create_index('ix_entry_wikitext_contest', ['contest_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('entry_wikitext', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_wikitext_contest')

    op.drop_table('entry_wikitext')
    with op.batch_alter_table('entry_sites', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_sites_contest_site')

    op.drop_table('entry_sites')
    with op.batch_alter_table('entry_reasons', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_reasons_contest_code')

    op.drop_table('entry_reasons')
    with op.batch_alter_table('entry_fingerprints', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_fingerprints_contest')

    op.drop_table('entry_fingerprints')
    with op.batch_alter_table('entry_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_checks_contest_eligible')

    op.drop_table('entry_checks')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index('ix_sites_contest_region')

    op.drop_table('sites')
    op.drop_table('contest_rules')
