"""intake ledger keyed by lead id; idempotency keys bound to their request

A lead's id is now derived from its identity (platform, store, source and
external id; or its ADF text; or its Idempotency-Key), so one row per
accepted lead recognises every repeat; an Idempotency-Key remembers the
request it came with, so that another body under the same key is refused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 23:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dealerflow.db

revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('intake_leads',
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('store_code', sa.String(length=32), nullable=False),
    sa.Column('created_at', dealerflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_intake_leads'))
    )
    with op.batch_alter_table('intake_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_leads_created_at'), ['created_at'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('lead_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', dealerflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    # every accepted lead had an "id:<lead id>" row in the old ledger
    op.execute("INSERT INTO intake_leads (lead_id, platform, store_code, created_at) "
               "SELECT lead_id, platform, store_code, created_at FROM intake_ledger "
               "WHERE dedupe_key LIKE 'id:%'")
    with op.batch_alter_table('intake_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_ledger_lead_id'))
    op.drop_table('intake_ledger')


def downgrade() -> None:
    op.create_table('intake_ledger',
    sa.Column('dedupe_key', sa.String(length=300), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('store_code', sa.String(length=32), nullable=False),
    sa.Column('created_at', dealerflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dedupe_key', name=op.f('pk_intake_ledger'))
    )
    with op.batch_alter_table('intake_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_ledger_lead_id'), ['lead_id'], unique=False)
    op.execute("INSERT INTO intake_ledger (dedupe_key, lead_id, platform, store_code, created_at) "
               "SELECT 'id:' || lead_id, lead_id, platform, store_code, created_at FROM intake_leads")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('intake_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_leads_created_at'))
    op.drop_table('intake_leads')
