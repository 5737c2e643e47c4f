"""product shelf life

A product may have a shelf life in months; its labels then carry the expiry date (17), the production date plus
the shelf life. NULL (every existing product) means the product does not expire, so no label changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("product", sa.Column("shelf_life_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy and drop the product table, which
    # the foreign keys of batches and units forbid.
    op.drop_column("product", "shelf_life_months")
