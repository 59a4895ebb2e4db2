"""What every use case of the customers service does with what a caller
sends: load it with its contract schema and page a list; each failure is
``InvalidCustomer`` naming the fields (a 422 at the gateway)."""
from marshmallow import ValidationError

from dealerflow.contracts import schema
from dealerflow.paging import BadCursor, keyset_page
from services.customers.exceptions import InvalidCustomer


def load(schema_class, data, partial: bool = False) -> dict:
    try:
        return schema(schema_class).load(data or {}, partial=partial)
    except ValidationError as exc:
        raise InvalidCustomer("The input is not valid; see errors.", errors=exc.messages)


def page(session, statement, column, query: dict, descending: bool = True) -> tuple[list, str | None]:
    """A keyset page of ``statement`` by ``(column, id)`` (``dealerflow.paging``)."""
    try:
        return keyset_page(session, statement, column, column.class_.id, descending, query["limit"],
                           query.get("cursor"))
    except BadCursor as exc:
        raise InvalidCustomer("The query is not valid; see errors.", errors={"cursor": [str(exc)]})
