"""Drop the leads' one-column indexes on status, store_code and consultant_id:
each is the first column of a two-column index that serves the same
lookups (ix_leads_status_first_contact_due_at, ix_leads_store_code_created_at,
ix_leads_consultant_id_created_at), and every lead's INSERT and every
change of its status or owner paid for them (issue 13).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PREFIX_INDEXES = (('ix_leads_status', 'status'), ('ix_leads_store_code', 'store_code'),
                  ('ix_leads_consultant_id', 'consultant_id'))


def upgrade() -> None:
    with op.batch_alter_table('leads') as batch_op:
        for name, _ in PREFIX_INDEXES:
            batch_op.drop_index(name)


def downgrade() -> None:
    with op.batch_alter_table('leads') as batch_op:
        for name, column in PREFIX_INDEXES:
            batch_op.create_index(name, [column], unique=False)
