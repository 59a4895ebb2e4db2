"""A request to a writing RPC is carried out once, however often the broker
delivers it.

The broker redelivers a request whose ack it did not get: the service was
killed, its connection cut, or (nameko 2.14, fixed in
``messaging.QueueConsumer``) it stopped gracefully before acking. The next
instance would run the request again: a second comment, a second call
record. So:

- The first commit of an RPC worker's session also inserts
  ``(<the request's AMQP correlation id>, "rpc:<method>")`` into the
  service's ``processed_messages``, in the same transaction as the work (a
  session ``before_commit`` hook, ``messaging.RpcConsumer``): once the work
  is in, so is the mark, and never one without the other. A later commit
  of the same worker adds nothing. If the mark is already there, another
  delivery of the request did the work: the commit fails (``AlreadyDone``)
  and writes nothing.
- The reply is kept in the mark, in a second short transaction, before it
  is sent.
- A redelivered request (AMQP ``redelivered``) is looked up first: when its
  mark is there it is not run again; the kept reply is sent again (an
  ``AlreadyDone`` error if the process died between the work and keeping
  its reply, which was then never sent either). Otherwise it runs as new.

Every RPC gets this, once, in ``messaging``, not method by method. A
read-only RPC pays nothing: it never commits, so it writes no mark, and
only a redelivered request costs a lookup. The request's correlation id is
the caller's own (the standalone proxy makes one per call); a request
without one runs unguarded. Replies are kept as long as the marks
(``DEDUPE_RETENTION_DAYS``); a redelivery comes within minutes. A reply may
quote a customer (a comment, a profile), so a customer's erasure forgets
every kept reply in every service (``forget_replies``): a request
redelivered after that is answered ``AlreadyDone``, its work still done once.
"""
from sqlalchemy import String, Text, column, select, table, update

from dealerflow.db import UTCDateTime, ignoring_insert, utcnow

# the columns of every service's processed_messages this module uses (``outbox.ProcessedMixin``)
PROCESSED = table("processed_messages", column("message_id", String), column("handler", String),
                  column("processed_at", UTCDateTime), column("reply", Text))


class AlreadyDone(Exception):
    """Another delivery of this request already did its work."""


class Request:
    """One delivery of an RPC request, as its worker runs it."""

    def __init__(self, request_id: str, method: str):
        self.id, self.handler = request_id, f"rpc:{method}"
        self.marked = False  # its mark committed with the worker's first commit


def mark(session, request: Request) -> None:
    """In the session's transaction: note that the request's work is done,
    or raise ``AlreadyDone`` if an earlier delivery noted it."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    inserted = connection.execute(ignoring_insert(connection.dialect.name, PROCESSED), {
        "message_id": request.id, "handler": request.handler, "processed_at": utcnow()})
    if inserted.rowcount != 1:
        raise AlreadyDone(f"request {request.id} ({request.handler}) was carried out by an earlier delivery")


def keep_reply(session, request: Request, reply: str) -> None:
    session.execute(update(PROCESSED).where(PROCESSED.c.message_id == request.id,
                                            PROCESSED.c.handler == request.handler).values(reply=reply))


def earlier_reply(session, request: Request) -> tuple[bool, str | None]:
    """Whether the request's work is done, and the reply it got if kept."""
    row = session.execute(select(PROCESSED.c.reply).where(
        PROCESSED.c.message_id == request.id, PROCESSED.c.handler == request.handler)).first()
    return row is not None, row[0] if row else None


def forget_replies(session) -> None:
    """A customer's erasure: forget every kept reply, whoever it was about
    (the marks stay, so nothing is done twice)."""
    session.execute(update(PROCESSED).where(PROCESSED.c.reply.is_not(None)).values(reply=None))
