"""An import's batches of rows only ever inserted (customers, their
contacts, terms, timeline and traits), several thousand to a table in one
statement. A lead's new customer goes through ``dealerflow.db.insert_rows``,
as the import does on SQLite."""
from psycopg2.extras import execute_values

from dealerflow.db import insert_rows


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
