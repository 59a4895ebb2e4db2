"""services.customers.search: a short phone fragment is a number's end; a
common name or initials is filtered by the customer's own columns, with the
same answer as by ids (on a real SQLite database)."""

from dealerflow.actor import Actor
from services.customers import profiles, search

MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))


def test_a_short_phone_fragment_is_a_numbers_end_and_from_five_digits_its_start_too(session):
    wang = profiles.create_customer(session, MANAGER, {"name": "王磊", "phones": ["13800138000"]})
    li = profiles.create_customer(session, MANAGER, {"name": "李四", "phones": ["13912341380"]})

    def ids(q):
        return {item["id"] for item in search.search_customers(session, MANAGER, {"q": q})["items"]}
    assert ids("1380") == {li.id}          # the end of 139 1234 1380, not the start of 138 0013 8000
    assert ids("13800") == {wang.id}       # five digits: the start too
    assert ids("+86 138") == {wang.id}     # written with the country code: the start
    assert ids("8000") == {wang.id}


def test_a_common_name_or_initials_is_filtered_by_the_customers_own_columns(session, monkeypatch):
    made = {name: profiles.create_customer(session, MANAGER, {"name": name}).id
            for name in ("王磊", "王丽", "汪乐", "李磊", "Wang Li")}

    def names(q):
        return sorted(item["name"] for item in search.search_customers(session, MANAGER, {"q": q})["items"])
    few = {q: names(q) for q in ("王", "wl", "w", "王磊")}
    monkeypatch.setattr(search, "FEW", 1)  # more matches than FEW: the customers' own columns
    assert {q: names(q) for q in few} == few == {
        "王": ["王丽", "王磊"], "wl": ["Wang Li", "汪乐", "王丽", "王磊"], "w": ["Wang Li", "汪乐", "王丽", "王磊"],
        "王磊": ["王磊"]}
    assert set(made) >= set(few["wl"])
