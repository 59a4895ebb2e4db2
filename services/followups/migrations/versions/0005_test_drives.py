"""test-drive vehicles and bookings; a vehicle, and a specialist, is never
booked twice for overlapping times

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00

The database itself refuses an overlap, so that no race between two
requests (two gateway workers, two followups replicas) can double-book:

- PostgreSQL: exclusion constraints with ``btree_gist``,
  ``EXCLUDE USING gist (vehicle_id WITH =, tstzrange(starts_at, ends_at)
  WITH &&) WHERE (status <> 'cancelled')``, and the same on
  ``specialist_id`` (a NULL specialist conflicts with nothing). The ranges
  are half open, ``[)``: 10:00-10:30 and 10:30-11:00 do not overlap.
- SQLite: BEFORE INSERT and BEFORE UPDATE triggers that raise on an
  overlapping active booking. SQLite has one writer at a time (our
  services begin ``IMMEDIATE``), so what a trigger reads cannot change
  under it. Times are stored as fixed-width UTC text, which compares in
  time order.

Either way the error names the constraint (``ex_test_drives_vehicle`` or
``ex_test_drives_specialist``), which ``test_drives.py`` turns into a
``BookingConflict`` naming the vehicle or the specialist.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dealerflow.db import UTCDateTime

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OVERLAPS = {"vehicle": "vehicle_id", "specialist": "specialist_id"}


def sqlite_trigger(name: str, column: str, when: str, excluding_self: str) -> str:
    return f"""
CREATE TRIGGER tr_test_drives_{name}_{when.split()[0].lower()} BEFORE {when} ON test_drives
WHEN NEW.status <> 'cancelled' AND NEW.{column} IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'ex_test_drives_{name}: overlapping booking')
    WHERE EXISTS (SELECT 1 FROM test_drives
                  WHERE {column} = NEW.{column} AND status <> 'cancelled'{excluding_self}
                    AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at);
END"""


def upgrade() -> None:
    op.create_table(
        'vehicles',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('vin', sa.String(length=17), nullable=True),
        sa.Column('stock_number', sa.String(length=32), nullable=True),
        sa.Column('brand', sa.String(length=60), nullable=False),
        sa.Column('model', sa.String(length=60), nullable=False),
        sa.Column('trim', sa.String(length=100), nullable=True),
        sa.Column('fuel_type', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles')),
        sa.UniqueConstraint('store_code', 'stock_number', name=op.f('uq_vehicles_store_code_stock_number')),
        sa.UniqueConstraint('vin', name=op.f('uq_vehicles_vin')))
    op.create_index(op.f('ix_vehicles_store_code'), 'vehicles', ['store_code'], unique=False)
    op.create_table(
        'test_drives',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('lead_id', sa.String(length=36), nullable=False),
        sa.Column('store_code', sa.String(length=32), nullable=False),
        sa.Column('vehicle_id', sa.String(length=36), nullable=False),
        sa.Column('consultant_id', sa.String(length=36), nullable=True),
        sa.Column('specialist_id', sa.String(length=36), nullable=True),
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('ends_at', UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=True),
        sa.Column('organizer_name', sa.String(length=200), nullable=True),
        sa.Column('organizer_email', sa.String(length=254), nullable=True),
        sa.Column('customer_email', sa.String(length=254), nullable=True),
        sa.Column('licence_number', sa.String(length=32), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=36), nullable=True),
        sa.Column('checked_in_at', UTCDateTime(), nullable=True),
        sa.Column('checked_in_by', sa.String(length=36), nullable=True),
        sa.Column('no_show_at', UTCDateTime(), nullable=True),
        sa.Column('cancelled_at', UTCDateTime(), nullable=True),
        sa.Column('cancelled_by', sa.String(length=36), nullable=True),
        sa.Column('cancel_reason', sa.String(length=200), nullable=True),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_test_drives_ends_after_start')),
        sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_test_drives_vehicle_id_vehicles')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_test_drives')))
    op.create_index(op.f('ix_test_drives_lead_id'), 'test_drives', ['lead_id'], unique=False)
    op.create_index('ix_test_drives_vehicle_id_starts_at', 'test_drives', ['vehicle_id', 'starts_at'], unique=False)
    op.create_index('ix_test_drives_status_starts_at', 'test_drives', ['status', 'starts_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for name, column in OVERLAPS.items():
            op.execute(f"ALTER TABLE test_drives ADD CONSTRAINT ex_test_drives_{name} EXCLUDE USING gist "
                       f"({column} WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status <> 'cancelled')")
    else:
        for name, column in OVERLAPS.items():
            op.execute(sqlite_trigger(name, column, "INSERT", ""))
            op.execute(sqlite_trigger(name, column, f"UPDATE OF {column}, starts_at, ends_at, status",
                                      " AND id <> NEW.id"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in OVERLAPS:
            for when in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_test_drives_{name}_{when}")
    op.drop_table('test_drives')  # its constraints, indexes and triggers with it
    op.drop_index(op.f('ix_vehicles_store_code'), table_name='vehicles')
    op.drop_table('vehicles')
