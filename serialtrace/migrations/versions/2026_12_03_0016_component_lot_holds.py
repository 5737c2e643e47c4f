"""component lot holds: a lot's status with the hold's reason, time and author, and the batches its hold held

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:15:47.055339
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('component_lot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default=sa.text("'released'")))
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=500), nullable=False,
                                      server_default=sa.text("''")))
        batch_op.add_column(sa.Column('held_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('held_by', sa.String(length=100), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('held_batch_ids',
                                      sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'),
                                      nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('component_lot', schema=None) as batch_op:
        batch_op.drop_column('held_batch_ids')
        batch_op.drop_column('held_by')
        batch_op.drop_column('held_at')
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('status')
