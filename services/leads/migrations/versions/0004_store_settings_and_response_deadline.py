"""stores' settings copy, the lead's first-contact deadline, what staff lists show and search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:10:00

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
    op.create_table('stores',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('response_minutes', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_stores'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_contact_due_at', dealerflow.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('customer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('customer_phone', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_leads_store_code_created_at', ['store_code', 'created_at'], unique=False)
        batch_op.create_index('ix_leads_consultant_id_created_at', ['consultant_id', 'created_at'],
                              unique=False)
    backfill_customer_columns()


def backfill_customer_columns() -> None:
    """Copy the name and phone of leads stored before this revision out of
    their JSON (portable: read in Python, written in batches)."""
    connection = op.get_bind()
    leads = sa.table('leads', sa.column('id', sa.String), sa.column('customer', sa.JSON),
                     sa.column('customer_name', sa.String), sa.column('customer_phone', sa.String))
    rows = connection.execute(sa.select(leads.c.id, leads.c.customer)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            leads.update().where(leads.c.id == sa.bindparam('lead_id'))
            .values(customer_name=sa.bindparam('name'), customer_phone=sa.bindparam('phone')),
            [{"lead_id": lead_id, "name": (customer or {}).get("name"), "phone": (customer or {}).get("phone")}
             for lead_id, customer in rows[start:start + 1000]])


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_consultant_id_created_at')
        batch_op.drop_index('ix_leads_store_code_created_at')
        batch_op.drop_column('customer_phone')
        batch_op.drop_column('customer_name')
        batch_op.drop_column('first_contact_due_at')
    op.drop_table('stores')
