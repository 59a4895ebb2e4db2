"""an index on the SLA warning's moment: the timer asks every second which
warnings are due, and without it SQLite reads every assigned lead

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_leads_first_contact_warn_at', 'leads', ['first_contact_warn_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_leads_first_contact_warn_at', table_name='leads')
