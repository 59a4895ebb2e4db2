"""a lead's external id is unique per platform and store

The gateway scopes a lead's identity to its platform and store: the same
external id sent for two stores is two leads, and neither store learns of
the other's.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 23:45:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_leads_platform_source_external_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_leads_platform_store_code_source_external_id'),
                                          ['platform', 'store_code', 'source', 'external_id'])


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_leads_platform_store_code_source_external_id'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_leads_platform_source_external_id'),
                                          ['platform', 'source', 'external_id'])
