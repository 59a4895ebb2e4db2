"""tasks with reminders, escalation, outcomes and their source; follow-up
records; cadence policies; copies of store hours, store managers and the
leads' grade and stage

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:00:00

A lead has many tasks over its life now, so (lead_id, kind) is no longer
unique. Tasks stored before this revision are first-contact tasks from the
SLA (source ``sla``); they get no reminder (their moment has passed or the
next assignment sets it).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tasks_lead_id_kind', type_='unique')
        batch_op.add_column(sa.Column('source', sa.String(length=20), nullable=False, server_default='sla'))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        for column in ('remind_at', 'reminded_at', 'escalate_at', 'escalated_at', 'completed_at'):
            batch_op.add_column(sa.Column(column, UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('created_by', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_tasks_lead_id_status', ['lead_id', 'status'], unique=False)
        batch_op.create_index('ix_tasks_remind_at', ['remind_at'], unique=False)
        batch_op.create_index('ix_tasks_escalate_at', ['escalate_at'], unique=False)
    with op.batch_alter_table('store_calendars', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_hours', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'store_managers',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'store_code', name=op.f('pk_store_managers')))
    op.create_index(op.f('ix_store_managers_store_code'), 'store_managers', ['store_code'], unique=False)
    op.create_table(
        'lead_states',
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('consultant_id', sa.String(length=36), nullable=True),
        sa.Column('customer_name', sa.String(length=200), nullable=True),
        sa.Column('grade', sa.String(length=1), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('recorded', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_lead_states')))
    op.create_table(
        'cadence_policies',
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('remind_minutes', sa.Integer(), nullable=False),
        sa.Column('escalate_minutes', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('store_code', name=op.f('pk_cadence_policies')))
    op.create_table(
        'followup_records',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('consultant_id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=40), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('next_step', sa.Text(), nullable=True),
        sa.Column('script_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_records')))
    op.create_index(op.f('ix_followup_records_consultant_id'), 'followup_records', ['consultant_id'],
                    unique=False)
    op.create_index('ix_followup_records_lead_id_created_at', 'followup_records', ['lead_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    for table in ('followup_records', 'cadence_policies', 'lead_states', 'store_managers'):
        op.drop_table(table)
    with op.batch_alter_table('store_calendars', schema=None) as batch_op:
        batch_op.drop_column('holidays')
        batch_op.drop_column('business_hours')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for index in ('ix_tasks_escalate_at', 'ix_tasks_remind_at', 'ix_tasks_lead_id_status'):
            batch_op.drop_index(index)
        for column in ('created_by', 'outcome', 'completed_at', 'escalated_at', 'escalate_at', 'reminded_at',
                       'remind_at', 'note', 'source'):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint('uq_tasks_lead_id_kind', ['lead_id', 'kind'])
