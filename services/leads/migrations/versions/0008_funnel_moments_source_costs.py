"""the funnel's moments on each lead (when it reached each stage, its
appointment, visit, test drive and last activity, and how fast it was
first contacted) and each store's monthly
cost of a lead source: the analytics read them (docs/analytics.md)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MOMENTS = ('needs_confirmed_at', 'proposal_at', 'negotiation_at', 'appointment_at', 'visited_at',
           'test_drive_at', 'last_activity_at')
SPEEDS = ('response_seconds', 'owner_response_seconds')


def upgrade() -> None:
    with op.batch_alter_table('leads') as batch:
        for name in MOMENTS:
            batch.add_column(sa.Column(name, UTCDateTime(), nullable=True))
        for name in SPEEDS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    # a consultant's SLA breaches in a range
    op.create_index('ix_lead_events_change_at', 'lead_events', ['change', 'at'], unique=False)
    op.create_table(
        'source_costs',
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('updated_by', sa.String(length=36), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('store_code', 'source', 'month'),
    )


def downgrade() -> None:
    op.drop_table('source_costs')
    op.drop_index('ix_lead_events_change_at', table_name='lead_events')
    with op.batch_alter_table('leads') as batch:
        for name in (*MOMENTS, *SPEEDS):
            batch.drop_column(name)
