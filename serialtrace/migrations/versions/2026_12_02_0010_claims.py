"""claims at the desk: channel, unit cases, append-only claim timeline

A claim records the channel it came in by; each returned serial gets a unit case; every state change, comment and
assignment of a claim is a claim_event row that is never updated or deleted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from serialtrace.migrate import drop_append_only, make_append_only

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='desk'))
    op.create_table('unit_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('expected_serial', sa.String(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_case_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_case_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_case_unit_id'), ['unit_id'], unique=False)
    op.create_table('claim_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_event_claim_id'), ['claim_id'], unique=False)
    make_append_only('claim_event')


def downgrade() -> None:
    """Revert this revision."""
    drop_append_only('claim_event')
    with op.batch_alter_table('claim_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_event_claim_id'))
    op.drop_table('claim_event')
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_case_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_case_state'))
        batch_op.drop_index(batch_op.f('ix_unit_case_claim_id'))
    op.drop_table('unit_case')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_column('channel')
