"""a store's country: the region a phone written without a country code is read in

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=False,
                                      server_default='CN'))
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.alter_column('country', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('country')
