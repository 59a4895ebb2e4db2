"""a lead's phone in E.164 beside the number as sent (and its extension), the
ADF provider that sent it, and why its received_at is the submission time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00

Leads stored before this revision keep NULL: the gateway read their phones
without the region of the customer's address, so no E.164 can be derived
here that would be right for each of them.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_phone_e164', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('customer_phone_extension', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('provider', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('received_at_note', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_customer_phone_e164'), ['customer_phone_e164'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_customer_phone_e164'))
        batch_op.drop_column('received_at_note')
        batch_op.drop_column('provider')
        batch_op.drop_column('customer_phone_extension')
        batch_op.drop_column('customer_phone_e164')
