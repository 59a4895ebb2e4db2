"""when a username last failed to sign in, so that old failures can be pruned

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dealerflow.db

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_failed_at', dealerflow.db.UTCDateTime(timezone=True),
                                      nullable=False, server_default=sa.text('CURRENT_TIMESTAMP')))
        batch_op.create_index(batch_op.f('ix_failed_sign_ins_last_failed_at'), ['last_failed_at'],
                              unique=False)
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.alter_column('last_failed_at', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_sign_ins_last_failed_at'))
        batch_op.drop_column('last_failed_at')
