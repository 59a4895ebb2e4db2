"""Finding customers: by a name's start or its pinyin initials, a phone
fragment, an email's start, a tag or a preference, an owner or a store;
keyset pages (``dealerflow.paging``) within what the actor may see.

What ``q`` is, is read from its shape: with ``@`` an email; at least three
digits and nothing but digits, spaces, ``+`` and ``-`` a phone fragment,
found as its end (``8000``) and, from ``START_DIGITS`` digits or written
with +86, as the start of the number as dialled at home (``138 0013``); a
shorter start matched a tenth of all numbers (``1380``); anything else a name's start, or, all ASCII letters,
pinyin initials too (``wl`` finds 王磊). Each is an index range scan on
PostgreSQL and on SQLite, never a scan of every customer.
"""
import re

from sqlalchemy import exists, func, or_, select

from dealerflow.actor import Actor
from dealerflow.contracts import CustomerQuery
from dealerflow.phones import plain
from services.customers.contacts import name_key
from services.customers.inputs import load, page
from services.customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTerm
from services.customers.profiles import summary
from services.customers.scoping import visible_customers

_PHONE_FRAGMENT = re.compile(r"\+?[\d\s\-()]+")
FEW = 1000  # matches of a phone or an email filtered by id; of letters, walked from the newest
START_DIGITS = 5  # a shorter fragment is a number's end only (尾号), unless written with +86


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starts_with(column, text: str):
    return column.like(_escape(text) + "%", escape="\\")


def _prefixes(q: str) -> tuple:
    """Where ``q``'s matches are: the column holding the customer's id, and
    the (column, start) pairs a match has one of, each an index's range;
    whether they are the customer's own columns."""
    text = plain(q)
    digits = re.sub(r"\D", "", text)
    if "@" in text:
        return CustomerEmail.customer_id, [(CustomerEmail.email, text.lower())], False
    if _PHONE_FRAGMENT.fullmatch(text) and len(digits) >= 3:
        coded = text.startswith("+86") or (len(digits) == 13 and digits.startswith("86"))
        national = digits[2:] if coded else digits
        national = national[1:] if national.startswith("0") else national  # the trunk prefix: 021 -> 21
        prefixes = [(CustomerPhone.reversed, digits[::-1])]
        if coded or len(national) >= START_DIGITS:
            prefixes.insert(0, (CustomerPhone.national, national))
        return CustomerPhone.customer_id, prefixes, False
    key = name_key(text) or ""
    prefixes = [(Customer.name_key, key)]
    if re.fullmatch(r"[a-z]+", key.replace(" ", "")):
        prefixes.append((Customer.initials, key.replace(" ", "")))
    return Customer.id, prefixes, True


def matching_ids(q: str):
    """The ids of the customers ``q`` matches (a customer may come twice)."""
    id_column, prefixes, _ = _prefixes(q)
    return select(id_column).where(or_(*(starts_with(column, start) for column, start in prefixes)))


def matches_q(session, q: str):
    """The filter for ``q``. A name's is the test on the customer's own
    columns: the name indexes hold what the page filters and is ordered by
    (PostgreSQL: INCLUDE; a customer's leads' stores too, in
    ix_customer_leads_customer_id), so either plan PostgreSQL may choose
    reads indexes alone: the matches' range and a sort when they are few, or
    the customers newest first (ix_customers_updated_at_id) until a page has
    matched when they are many; before, each candidate cost a heap page
    (1,300 for 王磊: 50 ms, now 3.5). Letters are a name's start or
    initials: each range is counted first on its index alone (at most
    ``FEW`` + 1 entries, both in one statement) and one without matches
    left out (``tf`` is nobody's name's start): PostgreSQL can join two
    ranges only as bitmaps, through the heap (1,800 pages for ``zq``: 35 ms). When more than ``FEW``
    match, the same test is made on ``column || ''``, which no name index
    serves, so that the customers are walked newest first from the index
    (``xh``, 5,000 matches: 2 ms rather than 12 for the range and a sort). A
    phone's or an email's matches are looked up first, on their own index:
    when there are few (the usual search), the page is filtered by their
    ids, so that the planner never walks the newest customers probing each
    one's phones (at a million customers, that plan took seconds for a rare
    match); when there are many, by the lookup as a subquery."""
    id_column, prefixes, own = _prefixes(q)
    if own and len(prefixes) > 1:
        counts = session.execute(select(*(select(func.count()).select_from(
            select(column).where(starts_with(column, start)).limit(FEW + 1).subquery()).scalar_subquery()
            for column, start in prefixes))).one()
        prefixes = [prefix for prefix, found in zip(prefixes, counts) if found] or prefixes[:1]
        if sum(counts) > FEW:
            return or_(*(starts_with(column.concat(""), start) for column, start in prefixes))
    condition = or_(*(starts_with(column, start) for column, start in prefixes))
    if own:
        return condition
    lookup = select(id_column).where(condition)
    ids = list(dict.fromkeys(session.scalars(lookup.limit(FEW + 1))))
    return Customer.id.in_(ids) if len(ids) <= FEW else Customer.id.in_(lookup)


def has_term(kind: str, value: str):
    return exists(select(CustomerTerm.customer_id).where(
        CustomerTerm.customer_id == Customer.id, CustomerTerm.kind == kind,
        CustomerTerm.value == value.strip().lower()))


def search_customers(session, actor: Actor, query: dict) -> dict:
    query = load(CustomerQuery, query)
    sort = query["sort"]
    column = getattr(Customer, sort.lstrip("-"))
    # rows, not ORM objects, on the session's connection (a search has nothing pending)
    connection = session.connection()
    statement = select(Customer.id, column).where(visible_customers(actor))
    if query.get("q"):
        statement = statement.where(matches_q(connection, query["q"]))
    for key in ("store_code", "owner_id", "lifecycle"):
        if query.get(key):
            statement = statement.where(getattr(Customer, key) == query[key])
    for kind in ("tag", "brand", "model", "fuel_type"):
        if query.get(kind):
            statement = statement.where(has_term(kind, query[kind]))
    # the page's ids and sort values first, then its customers by id: by
    # updated_at, PostgreSQL answers the page from ix_customers_updated_at_id
    # alone (the filter's columns are in it), not from a heap page a candidate
    rows, next_cursor = page(connection, statement, column, query, descending=sort.startswith("-"))
    return {"items": summary(session, [row.id for row in rows]), "next_cursor": next_cursor}
