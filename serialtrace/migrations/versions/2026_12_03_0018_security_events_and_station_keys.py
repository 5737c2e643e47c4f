"""security events (append-only audit of sign-ins, lockouts, tokens, account changes, customer exports) and the
device key that binds a scanner station to its own device

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:40:00.000000
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from serialtrace.migrate import drop_append_only, make_append_only

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.create_index('ix_security_event_at', ['at'], unique=False)
        batch_op.create_index('ix_security_event_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index('ix_security_event_token_at', ['token_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_user_id'), ['user_id'], unique=False)
    # Who signed in, failed, was locked out or exported customer data must stay on record whatever a caller does.
    make_append_only('security_event')

    with op.batch_alter_table('scanner_station', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_key_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('scanner_station', schema=None) as batch_op:
        batch_op.drop_column('device_key_hash')

    drop_append_only('security_event')
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_event_user_id'))
        batch_op.drop_index('ix_security_event_token_at')
        batch_op.drop_index('ix_security_event_kind_at')
        batch_op.drop_index('ix_security_event_at')

    op.drop_table('security_event')
