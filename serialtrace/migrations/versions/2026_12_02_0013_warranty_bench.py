"""warranty desk and test bench: failure-code lists, versioned test procedures, test records with step results
(append-only, corrections supersede), dispositions with approval, comments and attachments, billing, return deadlines,
product prices and substitutes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:20:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from serialtrace.migrate import drop_append_only, make_append_only

# Never edited once written: corrections are new rows.
APPEND_ONLY = ('test_record', 'test_step_result', 'comment')

SEEDED_AT = datetime(2026, 12, 2, tzinfo=UTC)
# The default code lists a new installation starts with; quality and admins manage them from there.
DEFAULT_CODES = {
    'symptom': [('no_power', 'Does not switch on'), ('no_display', 'Blank display'),
                ('wrong_reading', 'Wrong readings'), ('no_communication', 'No communication'), ('leak', 'Leak'),
                ('intermittent', 'Intermittent faults'), ('physical_damage', 'Physical damage'),
                ('noise', 'Unusual noise'), ('overheating', 'Overheating'), ('other', 'Other')],
    'mode': [('solder_joint_crack', 'Cracked solder joint'), ('sensor_drift', 'Sensor drift'),
             ('firmware_hang', 'Firmware hang'), ('seal_failure', 'Seal failure'), ('no_fault', 'No fault'),
             ('liquid_ingress', 'Liquid ingress'), ('overvoltage', 'Overvoltage'),
             ('cracked_housing', 'Cracked housing'), ('component_failure', 'Component failure'),
             ('connector_failure', 'Connector failure'), ('other', 'Other')],
    'cause': [('component', 'Component (supplier)'), ('manufacturing', 'Manufacturing'), ('design', 'Design'),
              ('firmware', 'Firmware'), ('transport', 'Transport'), ('misuse', 'Misuse or damage by the user'),
              ('installation', 'Installation'), ('wear', 'Normal wear'), ('unknown', 'Unknown'), ('other', 'Other')],
    'location': [('main_board', 'Main board'), ('power_supply', 'Power supply'), ('sensor', 'Sensor'),
                 ('display', 'Display'), ('housing', 'Housing'), ('connector', 'Connector'), ('seal', 'Seal'),
                 ('firmware', 'Firmware'), ('none', 'None'), ('other', 'Other')],
    'action': [('none', 'None'), ('replace_board', 'Replace board'), ('replace_sensor', 'Replace sensor'),
               ('resolder', 'Resolder'), ('reflash', 'Reflash firmware'), ('replace_housing', 'Replace housing'),
               ('replace_seal', 'Replace seal'), ('clean', 'Clean and dry'), ('calibrate', 'Calibrate'),
               ('other', 'Other')],
}

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    failure_code = op.create_table('failure_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('list', 'code', name='uq_failure_code_list_code')
    )
    with op.batch_alter_table('failure_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failure_code_list'), ['list'], unique=False)
    op.bulk_insert(failure_code, [
        {'list': kind, 'code': code, 'name': name, 'active': True, 'position': position,
         'created_at': SEEDED_AT}
        for kind, codes in DEFAULT_CODES.items() for position, (code, name) in enumerate(codes)])
    op.create_table('product_substitute',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['substitute_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('product_id', 'substitute_id')
    )
    op.create_table('test_procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('steps', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('product_id', 'version', name='uq_test_procedure_product_version')
    )
    with op.batch_alter_table('test_procedure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_procedure_product_id'), ['product_id'], unique=False)
    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_claim_id'), ['claim_id'], unique=False)
    op.create_table('disposition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('executed_by_id', sa.Integer(), nullable=True),
    sa.Column('executed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['unit_case.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['executed_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disposition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposition_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposition_state'), ['state'], unique=False)
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('test_record_id', sa.Integer(), nullable=True),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['unit_case.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['test_record_id'], ['test_record.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stored_name')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_test_record_id'), ['test_record_id'], unique=False)
    op.create_table('test_step_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['test_record.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('test_step_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_step_result_record_id'), ['record_id'], unique=False)
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('billed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.alter_column('cost',
               existing_type=sa.FLOAT(),
               type_=sa.Numeric(precision=12, scale=2),
               existing_nullable=False)
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('replacement_warranty', sa.String(length=16), nullable=False,
                                      server_default='continue'))
    with op.batch_alter_table('test_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('procedure_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('symptom', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('location', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('action', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_test_record_case_id'), ['case_id'], unique=False)
        batch_op.create_unique_constraint('uq_test_record_supersedes_id', ['supersedes_id'])
        batch_op.create_foreign_key('fk_test_record_procedure_id', 'test_procedure', ['procedure_id'], ['id'])
        batch_op.create_foreign_key('fk_test_record_supersedes_id', 'test_record', ['supersedes_id'], ['id'])
        batch_op.create_foreign_key('fk_test_record_case_id', 'unit_case', ['case_id'], ['id'])
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('engineer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_unit_case_engineer_id'), ['engineer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_case_return_due'), ['return_due'], unique=False)
        batch_op.create_foreign_key('fk_unit_case_engineer_id', 'user_account', ['engineer_id'], ['id'])
    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    """Revert this revision."""
    for table in APPEND_ONLY:
        drop_append_only(table)
    # The new tables first: nothing older refers to them, and once gone, nothing refers to the test_record and
    # unit_case columns that SQLite's batch mode rebuilds below.
    for table, indexes in (('test_step_result', ('record_id',)), ('attachment', ('test_record_id', 'claim_id',
                                                                               'case_id')),
                           ('disposition', ('state', 'case_id')), ('comment', ('claim_id',))):
        for column in indexes:
            op.drop_index(f'ix_{table}_{column}', table_name=table)
        op.drop_table(table)
    with op.batch_alter_table('test_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_test_record_case_id', type_='foreignkey')
        batch_op.drop_constraint('fk_test_record_supersedes_id', type_='foreignkey')
        batch_op.drop_constraint('fk_test_record_procedure_id', type_='foreignkey')
        batch_op.drop_constraint('uq_test_record_supersedes_id', type_='unique')
        batch_op.drop_index(batch_op.f('ix_test_record_case_id'))
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('action')
        batch_op.drop_column('location')
        batch_op.drop_column('symptom')
        batch_op.drop_column('procedure_id')
        batch_op.drop_column('case_id')
    with op.batch_alter_table('unit_case', schema=None) as batch_op:
        batch_op.drop_constraint('fk_unit_case_engineer_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_unit_case_return_due'))
        batch_op.drop_index(batch_op.f('ix_unit_case_engineer_id'))
        batch_op.drop_column('verdict')
        batch_op.drop_column('taken_at')
        batch_op.drop_column('engineer_id')
        batch_op.drop_column('return_due')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy and drop the product and claim tables,
    # which the foreign keys of batches, units, cases and timelines forbid.
    op.drop_column('product', 'replacement_warranty')
    op.drop_column('product', 'price')
    op.drop_column('claim', 'billed_at')
    op.drop_column('claim', 'billed_amount')
    if op.get_bind().dialect.name != 'sqlite':
        # SQLite stores either type the same way; changing it there would mean copying the claim table.
        op.alter_column('claim', 'cost', existing_type=sa.Numeric(precision=12, scale=2), type_=sa.FLOAT(),
                        existing_nullable=False)
    op.drop_index('ix_test_procedure_product_id', table_name='test_procedure')
    op.drop_table('test_procedure')
    op.drop_table('product_substitute')
    op.drop_index('ix_failure_code_list', table_name='failure_code')
    op.drop_table('failure_code')
