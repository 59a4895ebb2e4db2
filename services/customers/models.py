"""The customers service's tables: people, how they are reached, what they
want, what they did, and the decisions people made about them.

A customer's phones and emails are rows of their own (``CustomerPhone``,
``CustomerEmail``): a person has several, and a phone's extension is part of
its identity. Tags and preferences are kept whole on the customer and, for
search, as ``CustomerTerm`` rows. A merged customer stays as a tombstone
(``merged_into``) so that late references still find where it went; an
erased one keeps only what the anonymous counts need (its id and its leads).
"""
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()

LIFECYCLES = ("potential", "intended", "won", "lost")
SCOPED = ["store_code", "owner_id", "merged_into", "erased_at"]  # what scoping.py filters on


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        # prefix search by name and by pinyin initials (C collation on PostgreSQL: a LIKE 'x%' uses them),
        # and a page newest first; each with what search and scoping filter on and the page is ordered by
        # (PostgreSQL: INCLUDE), so that a name's page is read from an index alone, not a heap page a match
        Index("ix_customers_name_key", "name_key", postgresql_ops={"name_key": "varchar_pattern_ops"},
              postgresql_include=["updated_at", "id", *SCOPED]),
        Index("ix_customers_initials", "initials", postgresql_ops={"initials": "varchar_pattern_ops"},
              postgresql_include=["updated_at", "id", *SCOPED]),
        Index("ix_customers_updated_at_id", "updated_at", "id", postgresql_include=["name_key", "initials", *SCOPED]),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200))   # the name folded for search
    initials: Mapped[str | None] = mapped_column(String(64))    # pinyin / word initials: 王磊 -> wl
    wechat_id: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))      # of the first contact
    store_code: Mapped[str | None] = mapped_column(String(32), index=True)
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the consultant
    lifecycle: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    preferences: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    import_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the import that created it
    merged_into: Mapped[str | None] = mapped_column(String(36))
    erased_at: Mapped[object | None] = mapped_column(UTCDateTime)


class CustomerPhone(Base):
    """A phone in E.164 with its extension ('' for none): one person's."""
    __tablename__ = "customer_phones"
    __table_args__ = (
        UniqueConstraint("e164", "extension"),
        # a fragment is found as the start of the national number or the end of the number
        Index("ix_customer_phones_national", "national", postgresql_ops={"national": "varchar_pattern_ops"}),
        Index("ix_customer_phones_reversed", "reversed", postgresql_ops={"reversed": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    e164: Mapped[str] = mapped_column(String(20))
    extension: Mapped[str] = mapped_column(String(10), default="")
    national: Mapped[str] = mapped_column(String(20))   # digits as dialled at home: 13800138000
    reversed: Mapped[str] = mapped_column(String(20))   # the E.164 digits backwards
    added_at: Mapped[object] = mapped_column(UTCDateTime)


class CustomerEmail(Base):
    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    added_at: Mapped[object] = mapped_column(UTCDateTime)


class CustomerTerm(Base):
    """A tag or a preference (brand, model, fuel type), findable by value."""
    __tablename__ = "customer_terms"
    __table_args__ = (Index("ix_customer_terms_kind_value", "kind", "value"),)

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)   # tag, brand, model, fuel_type
    value: Mapped[str] = mapped_column(String(100), primary_key=True)  # folded: lower case


class CustomerLead(Base):
    """A lead the customer came with, and who has it."""
    __tablename__ = "customer_leads"

    # whose leads went where: what scoping.py asks of a customer, read from the index alone (PostgreSQL)
    __table_args__ = (Index("ix_customer_leads_customer_id", "customer_id",
                            postgresql_include=["store_code", "consultant_id"]),)

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    store_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    consultant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    linked_at: Mapped[object] = mapped_column(UTCDateTime)
    # the lead's status as the leads service last announced it (None: not yet), for the lifecycle
    lead_status: Mapped[str | None] = mapped_column(String(20))


class TimelineEntry(Base):
    """Something that happened with the customer, from an event or an action here."""
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_customer_id_occurred_at", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[object] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[str | None] = mapped_column(String(36))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Trait(Base):
    """A derived trait, with its evidence; a consultant confirms or removes it
    (a removed trait is not inferred again)."""
    __tablename__ = "traits"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    trait: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # inferred, confirmed, removed
    confidence: Mapped[float] = mapped_column(Float)
    weights: Mapped[list] = mapped_column(JSON, default=list)
    evidence: Mapped[list] = mapped_column(JSON, default=list)  # [{source, text, at, ref}], newest last
    updated_at: Mapped[object] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)


class DuplicatePair(Base):
    """Two customers that may be one person, for a person to decide."""
    __tablename__ = "duplicate_pairs"
    __table_args__ = (UniqueConstraint("customer_id", "other_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    other_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, merged, dismissed
    found_at: Mapped[object] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)


class Merge(Base):
    """Who merged which customer into which, and why: the audit list."""
    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kept_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(Text)
    moved: Mapped[dict] = mapped_column(JSON)  # what moved: counts of phones, emails, leads, ...
    merged_at: Mapped[object] = mapped_column(UTCDateTime, index=True)


class Import(Base):
    """An uploaded spreadsheet, checked (dry run) and then imported."""
    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(36))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # reading, uploaded, checking, checked, importing, done, failed
    headers: Mapped[list] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)   # {"column index": field}
    sample: Mapped[list] = mapped_column(JSON, default=list)    # the first rows, as read
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    skip_rejected: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    # dropped once imported; loaded only when read (not by every progress poll or batch commit)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    leased_by: Mapped[str | None] = mapped_column(String(64))     # the worker on it (see imports.py)
    lease_until: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class ImportRow(Base):
    """One data row of an import, as the dry run found it."""
    __tablename__ = "import_rows"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)  # as the sheet numbers it
    outcome: Mapped[str] = mapped_column(String(8))  # create, match, reject
    fields: Mapped[dict | None] = mapped_column(JSON)  # the customer read; dropped once imported
    errors: Mapped[dict | None] = mapped_column(JSON)
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)  # matched, then created
    matched_by: Mapped[str | None] = mapped_column(String(16))  # phone, email
