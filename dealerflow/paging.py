"""Keyset pages, the one pagination style of every list in Dealerflow.

A page is ``{"items": [...], "next_cursor": str | None}``; the cursor is
opaque to clients (base64 of the last row's sort value and id), so a page
stays right while new rows arrive at the top, and the first page of a store
with a hundred thousand leads costs one index range scan, not an OFFSET.
"""
import base64
import binascii
import json
from datetime import datetime

from sqlalchemy import literal, tuple_


class BadCursor(ValueError):
    """A cursor this list did not hand out."""


def encode_cursor(value, row_id: str) -> str:
    value = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, is_time: bool) -> tuple:
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return (datetime.fromisoformat(value) if is_time else value), str(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor("This cursor was not handed out by this list.") from exc


def keyset_page(session, query, column, id_column, descending: bool, limit: int,
                cursor: str | None, is_time: bool = True) -> tuple[list, str | None]:
    """The rows of ``query`` after ``cursor`` in ``(column, id)`` order, and
    the cursor of the next page (None on the last). ``session`` is a Session,
    or a Connection for a select of columns (rows, no ORM objects); a query
    of one entity gives its objects, of several columns rows."""
    key = tuple_(column, id_column)
    if cursor:
        value, row_id = decode_cursor(cursor, is_time)
        after = tuple_(literal(value, column.type), literal(row_id, id_column.type))  # bound as stored
        query = query.where(key < after if descending else key > after)
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    result = session.execute(query.order_by(*order).limit(limit + 1))
    rows = (result.scalars() if len(query.column_descriptions) == 1 else result).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, column.key), getattr(last, id_column.key))
