"""unit cases: when the expected unit came back, for the test queue's age

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.drop_column('received_at')
