"""Rows only ever inserted (a new customer's, its contacts', terms',
timeline's and traits'), written as Core INSERTs on the session's
connection, several rows to a table in one statement: no ORM object is made
only to read its columns back, and no unit-of-work flush runs for them. A
lead's new customer and the import's batches go through the same code."""
import functools

from psycopg2.extras import execute_values
from sqlalchemy import insert


@functools.cache
def inserting(table):
    """``INSERT INTO table``, built once (its cache key is not worked out again at every call)."""
    return insert(table)


def insert_rows(session, table, rows: list[dict]) -> None:
    """Rows (dicts with the same keys) into ``table``, in one statement
    (an executemany for several rows). Its errors are SQLAlchemy's, by which
    a handler's outage is told from a bad message (``dealerflow.messaging``)."""
    if rows:
        session.connection().execute(inserting(table), rows if len(rows) > 1 else rows[0])


def insert_batch(session, table, rows: list[dict]) -> None:
    """An import's batch of rows (dicts with the same keys) into ``table``,
    in one statement. On PostgreSQL with psycopg2's ``execute_values``, which
    renders the values in C, each first made what its column stores by the
    column type's own bind processing (JSON to text, UTC datetimes), as
    SQLAlchemy would: SQLAlchemy's executemany spent about as much of the
    commit's CPU building and rendering its parameters as all the rest.
    Elsewhere (SQLite) ``insert_rows``."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        insert_rows(session, table, rows)
        return
    columns = [table.c[key] for key in rows[0]]
    values = []
    for column in columns:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values.append([row[column.key] for row in rows] if process is None else
                      [process(row[column.key]) for row in rows])
    quote = dialect.identifier_preparer
    with connection.connection.cursor() as cursor:
        execute_values(cursor, f"INSERT INTO {quote.format_table(table)} "
                               f"({', '.join(quote.format_column(column) for column in columns)}) VALUES %s",
                       list(zip(*values)), page_size=len(rows))
