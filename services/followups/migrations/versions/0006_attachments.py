"""attachments of follow-up records (photos, voice recordings), their bytes
in the blob store

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00
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
    op.create_table(
        'attachments',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('media_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=True),
        sa.Column('created_by', sa.String(length=36), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')))
    op.create_index(op.f('ix_attachments_record_id'), 'attachments', ['record_id'], unique=False)
    op.create_index(op.f('ix_attachments_lead_id'), 'attachments', ['lead_id'], unique=False)


def downgrade() -> None:
    op.drop_table('attachments')
