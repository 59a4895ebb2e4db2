"""transcripts of voice recordings: each attachment's status, text, when,
why it failed, and the lease of the replica transcribing it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('attachments') as batch:
        batch.add_column(sa.Column('transcript_status', sa.String(length=10), server_default='none',
                                   nullable=False))
        batch.add_column(sa.Column('transcript', sa.Text(), nullable=True))
        batch.add_column(sa.Column('transcribed_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('transcript_error', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('transcript_owner', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('transcript_lease_until', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('transcript_attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_index(op.f('ix_attachments_transcript_status'), 'attachments', ['transcript_status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attachments_transcript_status'), table_name='attachments')
    with op.batch_alter_table('attachments') as batch:
        for column in ('transcript_attempts', 'transcript_lease_until', 'transcript_owner', 'transcript_error',
                       'transcribed_at', 'transcript', 'transcript_status'):
            batch.drop_column(column)
