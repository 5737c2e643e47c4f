"""normalised unit search

Upper-cased search keys of serial and external code with their indexes, filled for existing units; one customer
per name among customers without a tax id (duplicates a race made are merged into the oldest row first).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Rows per UPDATE when a key needs Python (non-ASCII text, whose upper case the databases do not agree on).
_CHUNK = 10_000


def _key_type(length: int):
    """Byte order on PostgreSQL whatever the locale, as serialtrace.trace.models declares it."""
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _search_key(value: str) -> str:
    """serialtrace.trace.models.search_key, copied so this revision keeps working when the model changes."""
    key = value.upper()
    if len(key) != len(value):
        key = "".join(c.upper() if len(c.upper()) == 1 else c for c in value)
    return key


def _fill_keys(bind, source: str, target: str) -> None:
    """target = search key of source: upper() in SQL for ASCII text, Python for the rest."""
    non_ascii = f"{source} GLOB '*[^ -~]*'" if bind.dialect.name == "sqlite" else f"{source} ~ '[^ -~]'"
    bind.execute(sa.text(f"UPDATE unit SET {target} = upper({source}) WHERE {source} IS NOT NULL AND NOT ({non_ascii})"))
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM unit WHERE {non_ascii}")).all()
    update = sa.text(f"UPDATE unit SET {target} = :key WHERE id = :id")
    for start in range(0, len(rows), _CHUNK):
        bind.execute(update, [{"id": r[0], "key": _search_key(r[1])} for r in rows[start:start + _CHUNK]])


def _merge_duplicate_customers(bind) -> None:
    """Point every reference to a duplicate (same name, no tax id) at the oldest such customer; drop the rest."""
    groups = bind.execute(sa.text(
        "SELECT name, min(id) FROM customer WHERE tax_id IS NULL GROUP BY name HAVING count(*) > 1")).all()
    if not groups:
        return
    inspector = sa.inspect(bind)
    refs = [(table, fk["constrained_columns"][0]) for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table) if fk["referred_table"] == "customer"]
    dups = "SELECT id FROM customer WHERE tax_id IS NULL AND name = :name AND id <> :keep"
    for name, keep in groups:
        for table, column in refs:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :keep WHERE {column} IN ({dups})"),
                         {"name": name, "keep": keep})
        bind.execute(sa.text(f"DELETE FROM customer WHERE id IN ({dups})"), {"name": name, "keep": keep})


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serial_key', _key_type(64), nullable=True))
        batch_op.add_column(sa.Column('external_key', _key_type(128), nullable=True))
    _fill_keys(bind, "serial", "serial_key")
    _fill_keys(bind, "external_code", "external_key")
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index('ix_unit_serial_key', ['serial_key'], unique=False)
        batch_op.create_index('ix_unit_external_key', ['external_key'], unique=False,
                              sqlite_where=sa.text('external_key IS NOT NULL'),
                              postgresql_where=sa.text('external_key IS NOT NULL'))

    _merge_duplicate_customers(bind)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('uq_customer_name_without_tax_id', ['name'], unique=True,
                              sqlite_where=sa.text('tax_id IS NULL'), postgresql_where=sa.text('tax_id IS NULL'))


def downgrade() -> None:
    """Revert this revision (merged duplicate customers stay merged)."""
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('uq_customer_name_without_tax_id')
    op.drop_index('ix_unit_external_key', table_name='unit')
    op.drop_index('ix_unit_serial_key', table_name='unit')
    # In place (SQLite 3.35+ drops a column natively): batch mode would copy the table, and dropping the
    # filled original fails on the foreign keys of unit events and shipment items.
    op.drop_column('unit', 'external_key')
    op.drop_column('unit', 'serial_key')
