"""stage tasks, SLA clocks and calendars, teams and routing, notifications, knowledge base, surveys; claim impact,
urgency, team, cycle and statutory deadline; customer account manager

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 06:19:40.459417
"""
from datetime import UTC, datetime, time

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('business_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.Column('weekdays', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('country', sa.String(length=8), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('holidays', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('extra_days', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    # The calendar every clock counts on until an admin sets the company's own: Monday to Friday, 09:00-18:00 UTC.
    calendars = sa.table('business_calendar', sa.column('name', sa.String), sa.column('opens', sa.Time),
                         sa.column('closes', sa.Time), sa.column('weekdays', sa.JSON), sa.column('country', sa.String),
                         sa.column('timezone', sa.String), sa.column('holidays', sa.JSON),
                         sa.column('extra_days', sa.JSON), sa.column('is_default', sa.Boolean),
                         sa.column('updated_at', sa.DateTime))
    op.bulk_insert(calendars, [{'name': 'Standard', 'opens': time(9, 0), 'closes': time(18, 0),
                                'weekdays': [0, 1, 2, 3, 4], 'country': None, 'timezone': 'UTC', 'holidays': [],
                                'extra_days': [], 'is_default': True, 'updated_at': datetime.now(UTC)}])
    op.create_table('knowledge_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_family', sa.String(length=100), nullable=False),
    sa.Column('symptom', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('successes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_article_key', ['product_family', 'symptom'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendar.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('knowledge_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stored_name')
    )
    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_file_article_id'), ['article_id'], unique=False)

    op.create_table('knowledge_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'version', name='uq_knowledge_version')
    )
    with op.batch_alter_table('knowledge_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_version_article_id'), ['article_id'], unique=False)

    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_family', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('team_member',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('team_id', 'user_id')
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_user_id'), ['user_id'], unique=False)

    op.create_table('knowledge_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'claim_id', name='uq_knowledge_use')
    )
    with op.batch_alter_table('knowledge_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_use_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_use_claim_id'), ['claim_id'], unique=False)

    op.create_table('stage_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stage_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_task_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_stage_task_open_assignee', ['assignee_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_stage_task_open_team', ['team_id', 'closed_at'], unique=False)

    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('mail_state', sa.String(length=8), nullable=False),
    sa.Column('mail_attempts', sa.Integer(), nullable=False),
    sa.Column('mail_error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mailed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim_id', 'cycle', name='uq_survey_claim_cycle'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_mail_state'), ['mail_state'], unique=False)

    op.create_table('sla_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('target_seconds', sa.Float(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('elapsed_seconds', sa.Float(), nullable=False),
    sa.Column('running_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('escalated', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('stopped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendar.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['stage_task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clock_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_clock_due_at'), ['due_at'], unique=False)
        batch_op.create_index('ix_sla_clock_next_escalation', ['next_escalation_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_clock_task_id'), ['task_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('clock_id', sa.Integer(), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('mail_state', sa.String(length=8), nullable=False),
    sa.Column('mail_attempts', sa.Integer(), nullable=False),
    sa.Column('mail_error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mail_lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('mailed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['clock_id'], ['sla_clock.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('clock_id', 'cycle', 'threshold', 'user_id', name='uq_notification_escalation')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_mail_state'), ['mail_state'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('impact', sa.Integer(), nullable=False, server_default=sa.text('2')))
        batch_op.add_column(sa.Column('urgency', sa.Integer(), nullable=False, server_default=sa.text('2')))
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cycle', sa.Integer(), nullable=False, server_default=sa.text('1')))
        batch_op.add_column(sa.Column('statutory_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('own_customer_confirmed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_claim_team_id'), ['team_id'], unique=False)
        batch_op.create_foreign_key('fk_claim_team_id', 'team', ['team_id'], ['id'])

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_manager_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_account_manager_id'), ['account_manager_id'], unique=False)
        batch_op.create_foreign_key('fk_customer_account_manager_id', 'user_account', ['account_manager_id'], ['id'])



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_customer_account_manager_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customer_account_manager_id'))
        batch_op.drop_column('account_manager_id')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint('fk_claim_team_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_claim_team_id'))
        batch_op.drop_column('own_customer_confirmed')
        batch_op.drop_column('statutory_due_at')
        batch_op.drop_column('cycle')
        batch_op.drop_column('team_id')
        batch_op.drop_column('urgency')
        batch_op.drop_column('impact')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index(batch_op.f('ix_notification_mail_state'))
        batch_op.drop_index(batch_op.f('ix_notification_claim_id'))

    op.drop_table('notification')
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_clock_task_id'))
        batch_op.drop_index('ix_sla_clock_next_escalation')
        batch_op.drop_index(batch_op.f('ix_sla_clock_due_at'))
        batch_op.drop_index(batch_op.f('ix_sla_clock_claim_id'))

    op.drop_table('sla_clock')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_mail_state'))
        batch_op.drop_index(batch_op.f('ix_survey_claim_id'))

    op.drop_table('survey')
    with op.batch_alter_table('stage_task', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_task_open_team')
        batch_op.drop_index('ix_stage_task_open_assignee')
        batch_op.drop_index(batch_op.f('ix_stage_task_claim_id'))

    op.drop_table('stage_task')
    with op.batch_alter_table('knowledge_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_use_claim_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_use_article_id'))

    op.drop_table('knowledge_use')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_user_id'))

    op.drop_table('team_member')
    op.drop_table('routing_rule')
    with op.batch_alter_table('knowledge_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_version_article_id'))

    op.drop_table('knowledge_version')
    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_file_article_id'))

    op.drop_table('knowledge_file')
    op.drop_table('team')
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_article_key')

    op.drop_table('knowledge_article')
    op.drop_table('business_calendar')
