"""processed_messages.reply: the reply to an RPC request whose work is done,
sent again if the broker redelivers the request (dealerflow.once)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('processed_messages') as batch_op:
        batch_op.add_column(sa.Column('reply', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('processed_messages') as batch_op:
        batch_op.drop_column('reply')
