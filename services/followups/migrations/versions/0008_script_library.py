"""a store's own script templates, and each record's lead stage (whether a
script moved leads forward)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'script_overrides',
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('script_id', sa.String(length=64), nullable=False),
        sa.Column('template', sa.JSON(), nullable=True),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('store_code', 'script_id'),
    )
    with op.batch_alter_table('followup_records') as batch:
        batch.add_column(sa.Column('stage_at', sa.String(length=20), nullable=True))
    op.create_index('ix_followup_records_store_code_script_id', 'followup_records',
                    ['store_code', 'script_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_followup_records_store_code_script_id', table_name='followup_records')
    with op.batch_alter_table('followup_records') as batch:
        batch.drop_column('stage_at')
    op.drop_table('script_overrides')
