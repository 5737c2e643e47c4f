"""user language setting

Each user may choose the language pages are shown in; NULL (every existing user) follows the browser's
Accept-Language, so nobody's pages change until they choose.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
