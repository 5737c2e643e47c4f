"""batch history events

A batch's holds, releases and recalls are rows of batch_event (who, when, from which status to which, why),
one per change whatever the batch's size, instead of text appended to batch.notes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('batch_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_event', schema=None) as batch_op:
        batch_op.create_index('ix_batch_event_batch_at', ['batch_id', 'at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('batch_event', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_event_batch_at')
    op.drop_table('batch_event')
