"""grades, scores and stages; the lead's history, discussion and watchers;
routing rules, store lead policies and the scoring model; the roster's
shifts, leave and capacity and the stores' business hours

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00

Leads stored before this revision become grade N, stage initial_contact,
with no score: they were never graded, and scoring them now would use a
model they were not seen by. Roster and store copies get empty hours,
shifts and leave until the gateway announces them again: run
``dealerflow announce-org`` once after upgrading.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('grade', sa.String(length=1), nullable=False, server_default='N'))
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score_method', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('score_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('stage', sa.String(length=20), nullable=False,
                                      server_default='initial_contact'))
        batch_op.add_column(sa.Column('first_contact_warn_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_warned_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reroutes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pooled_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('lost_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('lost_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('deal_value', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('deal_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('vehicle', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_duplicate_of'), ['duplicate_of'], unique=False)
        batch_op.create_index('ix_leads_status_first_contact_due_at', ['status', 'first_contact_due_at'],
                              unique=False)
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('rule_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.create_index('ix_assignments_consultant_id_assigned_at', ['consultant_id', 'assigned_at'],
                              unique=False)
    with op.batch_alter_table('roster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('shift', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('leave', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('daily_capacity', sa.Integer(), nullable=True))
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_hours', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'lead_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('change', sa.String(length=30), nullable=False),
        sa.Column('actor_id', sa.String(length=36), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_events_lead_id_leads')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_events')))
    op.create_index('ix_lead_events_lead_id_at', 'lead_events', ['lead_id', 'at'], unique=False)
    op.create_table(
        'lead_comments',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('author_id', sa.String(length=36), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('mentions', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_comments_lead_id_leads')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_comments')))
    op.create_index('ix_lead_comments_lead_id_created_at', 'lead_comments', ['lead_id', 'created_at'],
                    unique=False)
    op.create_table(
        'lead_watchers',
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_watchers_lead_id_leads')),
        sa.PrimaryKeyConstraint('lead_id', 'user_id', name=op.f('pk_lead_watchers')))
    op.create_index(op.f('ix_lead_watchers_user_id'), 'lead_watchers', ['user_id'], unique=False)
    op.create_table(
        'routing_rules',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=True),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('target', sa.JSON(), nullable=False),
        sa.Column('strategy', sa.String(length=20), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')))
    op.create_index(op.f('ix_routing_rules_store_code'), 'routing_rules', ['store_code'], unique=False)
    op.create_table(
        'lead_policies',
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('response_minutes', sa.JSON(), nullable=False),
        sa.Column('max_reroutes', sa.Integer(), nullable=False),
        sa.Column('loss_needs_approval', sa.Boolean(), nullable=False),
        sa.Column('duplicate_window_days', sa.Integer(), nullable=False),
        sa.Column('daily_claim_limit', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('store_code', name=op.f('pk_lead_policies')))
    op.create_table(
        'scoring_models',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('trained_at', UTCDateTime(), nullable=False),
        sa.Column('won', sa.Integer(), nullable=False),
        sa.Column('lost', sa.Integer(), nullable=False),
        sa.Column('model', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_models')))
    op.create_index(op.f('ix_scoring_models_trained_at'), 'scoring_models', ['trained_at'], unique=False)


def downgrade() -> None:
    for table in ('scoring_models', 'lead_policies', 'routing_rules', 'lead_watchers', 'lead_comments',
                  'lead_events'):
        op.drop_table(table)
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('holidays')
        batch_op.drop_column('business_hours')
    with op.batch_alter_table('roster', schema=None) as batch_op:
        for column in ('daily_capacity', 'leave', 'shift', 'languages', 'team_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_consultant_id_assigned_at')
        batch_op.drop_column('note')
        batch_op.drop_column('rule_id')
        batch_op.drop_column('actor_id')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_status_first_contact_due_at')
        batch_op.drop_index(batch_op.f('ix_leads_duplicate_of'))
        batch_op.drop_index(batch_op.f('ix_leads_customer_email'))
        for column in ('updated_at', 'vehicle', 'deal_currency', 'deal_value', 'closed_at', 'lost_note',
                       'lost_reason', 'duplicate_of', 'pooled_at', 'reroutes', 'sla_warned_at',
                       'first_contact_warn_at', 'stage', 'score_reasons', 'score_method', 'score', 'grade',
                       'customer_email'):
            batch_op.drop_column(column)
