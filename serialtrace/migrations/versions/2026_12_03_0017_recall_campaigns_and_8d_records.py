"""recall campaigns (units, customers with status and notes) and 8D / CAPA records (steps D1-D8, links)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:08:00.084373
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from serialtrace.migrate import drop_append_only, make_append_only

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('eight_d',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('eight_d', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eight_d_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_eight_d_state'), ['state'], unique=False)

    op.create_table('recall_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recall_campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_campaign_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_recall_campaign_state'), ['state'], unique=False)

    op.create_table('eight_d_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('eight_d_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['eight_d_id'], ['eight_d.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('eight_d_id', 'kind', 'target_id', name='uq_eight_d_link')
    )
    with op.batch_alter_table('eight_d_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eight_d_link_eight_d_id'), ['eight_d_id'], unique=False)
        batch_op.create_index('ix_eight_d_link_target', ['kind', 'target_id'], unique=False)

    op.create_table('eight_d_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('eight_d_id', sa.Integer(), nullable=False),
    sa.Column('discipline', sa.String(length=2), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('text', sa.String(length=8000), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['eight_d_id'], ['eight_d.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('eight_d_id', 'discipline', name='uq_eight_d_step')
    )
    with op.batch_alter_table('eight_d_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eight_d_step_eight_d_id'), ['eight_d_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eight_d_step_owner_id'), ['owner_id'], unique=False)

    op.create_table('recall_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['recall_campaign.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'customer_id', name='uq_recall_customer')
    )
    with op.batch_alter_table('recall_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_customer_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_customer_customer_id'), ['customer_id'], unique=False)

    op.create_table('recall_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recall_customer_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('text', sa.String(length=4000), nullable=False),
    sa.Column('status_from', sa.String(length=16), nullable=False),
    sa.Column('status_to', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recall_customer_id'], ['recall_customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recall_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_note_recall_customer_id'), ['recall_customer_id'], unique=False)

    op.create_table('recall_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('returned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('returned_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['recall_campaign.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'unit_id', name='uq_recall_unit')
    )
    with op.batch_alter_table('recall_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_unit_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_unit_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_unit_unit_id'), ['unit_id'], unique=False)
    # A customer's notes and status changes are the campaign's record of who was told what and when.
    make_append_only('recall_note')



def downgrade() -> None:
    """Revert this revision."""
    drop_append_only('recall_note')
    with op.batch_alter_table('recall_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_unit_unit_id'))
        batch_op.drop_index(batch_op.f('ix_recall_unit_customer_id'))
        batch_op.drop_index(batch_op.f('ix_recall_unit_campaign_id'))

    op.drop_table('recall_unit')
    with op.batch_alter_table('recall_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_note_recall_customer_id'))

    op.drop_table('recall_note')
    with op.batch_alter_table('recall_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_customer_customer_id'))
        batch_op.drop_index(batch_op.f('ix_recall_customer_campaign_id'))

    op.drop_table('recall_customer')
    with op.batch_alter_table('eight_d_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eight_d_step_owner_id'))
        batch_op.drop_index(batch_op.f('ix_eight_d_step_eight_d_id'))

    op.drop_table('eight_d_step')
    with op.batch_alter_table('eight_d_link', schema=None) as batch_op:
        batch_op.drop_index('ix_eight_d_link_target')
        batch_op.drop_index(batch_op.f('ix_eight_d_link_eight_d_id'))

    op.drop_table('eight_d_link')
    with op.batch_alter_table('recall_campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_campaign_state'))
        batch_op.drop_index(batch_op.f('ix_recall_campaign_number'))

    op.drop_table('recall_campaign')
    with op.batch_alter_table('eight_d', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eight_d_state'))
        batch_op.drop_index(batch_op.f('ix_eight_d_number'))

    op.drop_table('eight_d')
