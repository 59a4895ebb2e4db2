"""Attachments of follow-up records: photos and voice recordings, checked
by their bytes (``blobs.check``: type and size) before anything is kept,
stored in the blob store (``FOLLOWUPS_BLOBS``: a directory by default, an
S3-compatible bucket by URL) under ``<lead id>/<uuid>.<ext>``, described
by a row. The bytes are written first and the row committed after: a
crash between the two leaves an orphan blob, never a row without its bytes.
Erasing a customer deletes their leads' attachments, bytes and rows (and
with the rows their transcripts).

A voice recording added while a transcriber is configured
(``FOLLOWUPS_SPEECH``) is ``pending``: the followups service's timer
transcribes it in the background (``transcription.py``), never here."""
import functools
import os
import uuid

from sqlalchemy import delete, select

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from services.followups import blobs, transcription
from services.followups.exceptions import AttachmentRefused, AttachmentTooLarge, AttachmentType, TaskNotFound
from services.followups.models import Attachment, FollowupRecord, LeadState
from services.followups.scoping import follows


@functools.cache
def store() -> blobs.BlobStore:
    """This process's blob store, from ``FOLLOWUPS_BLOBS``."""
    return blobs.blob_store(os.environ.get("FOLLOWUPS_BLOBS"))


def record_of(session, actor: Actor, record_id: str) -> FollowupRecord:
    note = session.get(FollowupRecord, record_id)
    if note is None or not follows(actor, session.get(LeadState, note.lead_id)):
        raise TaskNotFound(f"No record {record_id} of yours.")
    return note


def add(session, actor: Actor, record_id: str, filename: str | None, declared_type: str | None,
        content: bytes) -> Attachment:
    note = record_of(session, actor, record_id)
    try:
        media_type, extension = blobs.check(content, filename or "", declared_type)
    except blobs.BlobError as exc:
        refused = {"too_large": AttachmentTooLarge, "type": AttachmentType}.get(exc.reason, AttachmentRefused)
        raise refused(exc.message, {exc.field: [exc.reason]})
    key = f"{note.lead_id}/{uuid.uuid4()}.{extension}"
    store().put(key, content, media_type)
    attached = Attachment(id=str(uuid.uuid4()), record_id=note.id, lead_id=note.lead_id, key=key,
                          media_type=media_type, size=len(content), filename=(filename or "")[:255] or None,
                          created_by=actor.user_id, created_at=utcnow(),
                          transcript_status="pending" if media_type.startswith("audio/") and transcription.engine()
                          else "none")
    session.add(attached)
    session.commit()
    return attached


def get(session, actor: Actor, attachment_id: str) -> tuple[Attachment, bytes]:
    attached = session.get(Attachment, attachment_id)
    if attached is None:
        raise TaskNotFound(f"No attachment {attachment_id}.")
    record_of(session, actor, attached.record_id)
    try:
        return attached, store().get(attached.key)
    except blobs.BlobNotFound:
        raise TaskNotFound(f"The file of attachment {attachment_id} is gone.")


def of_records(session, record_ids) -> dict[str, list[Attachment]]:
    found: dict[str, list[Attachment]] = {}
    for attached in session.scalars(select(Attachment).where(Attachment.record_id.in_(list(record_ids)))
                                    .order_by(Attachment.created_at)):
        found.setdefault(attached.record_id, []).append(attached)
    return found


def forget(session, lead_ids) -> None:
    """Delete the leads' attachments: the bytes, then the rows."""
    for attached in session.scalars(select(Attachment).where(Attachment.lead_id.in_(lead_ids))):
        store().delete(attached.key)
    session.execute(delete(Attachment).where(Attachment.lead_id.in_(lead_ids)))
