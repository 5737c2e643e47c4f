"""admin events

The admin area's actions (users added, roles changed, passwords reset, tokens created and revoked, station profiles
deleted, products added and edited) are rows of admin_event with their author, in the action's transaction; the table
is append-only like the other history tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlmodel

from serialtrace.migrate import drop_append_only, make_append_only

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('admin_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('admin_event', schema=None) as batch_op:
        batch_op.create_index('ix_admin_event_at', ['at'], unique=False)
    make_append_only('admin_event')


def downgrade() -> None:
    """Revert this revision."""
    drop_append_only('admin_event')
    with op.batch_alter_table('admin_event', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_event_at')
    op.drop_table('admin_event')
