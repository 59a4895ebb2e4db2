"""each of a customer's leads keeps its status, so that the customer's
lifecycle follows its leads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00

Links made before this revision have no status (NULL: open, not yet
worked) until their lead next changes.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('customer_leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_status', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customer_leads', schema=None) as batch_op:
        batch_op.drop_column('lead_status')
