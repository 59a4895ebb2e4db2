"""a lead's interest (brand, model, trim, budget) in the followups copy,
which fills the script templates' placeholders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('lead_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interest', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lead_states', schema=None) as batch_op:
        batch_op.drop_column('interest')
