"""claims: indexes on author_id and assignee_id, for the "my claims" filters at tens of thousands of claims

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 18:40:00
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_assignee_id'), ['assignee_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_assignee_id'))
        batch_op.drop_index(batch_op.f('ix_claim_author_id'))
