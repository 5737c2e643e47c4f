"""scan log by station and time

A station lists its latest scans on every scan, and the scan log page filters by station newest first: an index on
(station, scanned_at) reads those rows in order instead of sorting every scan the station ever logged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('scan_log', schema=None) as batch_op:
        batch_op.create_index('ix_scan_log_station_at', ['station', 'scanned_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('scan_log', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_log_station_at')
