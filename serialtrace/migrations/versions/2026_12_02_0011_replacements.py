"""replacements: a unit may be returned or handed out as a replacement more than once over its life

The first cut made returned_unit_id and replacement_unit_id unique, so a swap-pool unit could serve as a replacement
only once ever, and a unit could be replaced only once. Both become plain indexes; "never twice at once" is kept by
the unit's status (a replacement is shipped, and a shipped unit cannot ship again) and by the replacement service.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _table(unique: bool) -> sa.Table:
    """The replacement table as SQLite's batch copy should build it, with or without the unique constraints."""
    uniques = [sa.UniqueConstraint('replacement_unit_id'), sa.UniqueConstraint('returned_unit_id')] if unique else []
    return sa.Table(
        'replacement', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=True),
        sa.Column('returned_unit_id', sa.Integer(), nullable=False),
        sa.Column('replacement_unit_id', sa.Integer(), nullable=False),
        sa.Column('shipment_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
        sa.ForeignKeyConstraint(['replacement_unit_id'], ['unit.id'], ),
        sa.ForeignKeyConstraint(['returned_unit_id'], ['unit.id'], ),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_replacement_claim_id', 'claim_id'),
        *uniques,
    )


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == 'postgresql':
        # PostgreSQL named the unnamed constraints <table>_<column>_key.
        op.drop_constraint('replacement_replacement_unit_id_key', 'replacement', type_='unique')
        op.drop_constraint('replacement_returned_unit_id_key', 'replacement', type_='unique')
    else:
        # SQLite cannot drop an unnamed constraint: the batch copy rebuilds the table without them.
        with op.batch_alter_table('replacement', recreate='always', copy_from=_table(unique=False)):
            pass
    with op.batch_alter_table('replacement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replacement_returned_unit_id'), ['returned_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_replacement_replacement_unit_id'), ['replacement_unit_id'],
                              unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('replacement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replacement_replacement_unit_id'))
        batch_op.drop_index(batch_op.f('ix_replacement_returned_unit_id'))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_unique_constraint('replacement_replacement_unit_id_key', 'replacement', ['replacement_unit_id'])
        op.create_unique_constraint('replacement_returned_unit_id_key', 'replacement', ['returned_unit_id'])
    else:
        with op.batch_alter_table('replacement', recreate='always', copy_from=_table(unique=True)):
            pass
