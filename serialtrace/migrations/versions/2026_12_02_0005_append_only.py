"""append-only history tables

Unit events, batch events and the scan log refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) in the database itself,
whoever sends them; corrections are new rows. Login attempts are not history: they are pruned by design.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:40:00
"""
from serialtrace.migrate import drop_append_only, make_append_only

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Named here, not read from the models, so this revision keeps meaning the same tables.
HISTORY_TABLES = ("unit_event", "batch_event", "scan_log")


def upgrade() -> None:
    """Apply this revision."""
    for table in HISTORY_TABLES:
        make_append_only(table)


def downgrade() -> None:
    """Revert this revision."""
    for table in reversed(HISTORY_TABLES):
        drop_append_only(table)
