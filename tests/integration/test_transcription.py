"""Voice notes transcribed in the background, on SQLite and PostgreSQL: a
recording added while FOLLOWUPS_SPEECH names an engine is pending, the
timer of two replicas transcribes it once (PocketSphinx on English speech
that espeak-ng synthesises; a Whisper-compatible server on loopback),
appends it to the record's notes and announces it as a transcript; a
replica that dies mid-way is taken over when its lease runs out; a server
that is down is tried again later, a few times, then the recording is
failed with why; photos and unconfigured services transcribe nothing; an
erased customer's recording gets no transcript."""
import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import update

from dealerflow.db import utcnow
from services.followups import attachments, records, transcription
from services.followups.models import Attachment, FollowupRecord, OutboxMessage
from services.followups.transcription import MARK, TranscriptionUnavailable, sine_wav
from tests.integration.test_followup_tasks import OWNER, assign, blob_dir, events, followups  # noqa: F401
from tests.unit.followups.test_blobs import png
from tests.unit.followups.test_transcription_engines import speech_server  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def speech(monkeypatch):
    """``speech("pocketsphinx")``: FOLLOWUPS_SPEECH for this test."""
    def configure(url):
        if url is None:
            monkeypatch.delenv("FOLLOWUPS_SPEECH", raising=False)
        else:
            monkeypatch.setenv("FOLLOWUPS_SPEECH", url)
        transcription.engine.cache_clear()
    yield configure
    transcription.engine.cache_clear()


def a_record(session, notes="客户说周末有空"):
    assign(session, "l-1", utcnow() + timedelta(minutes=15))
    return records.add(session, OWNER, {"lead_id": "l-1", "channel": "call", "direction": "outbound",
                                        "outcome": "reached", "notes": notes})


def published(session):
    session.execute(update(OutboxMessage).values(sent_at=utcnow()))  # (no relay runs here)
    session.commit()


class Saying:
    """A transcriber that says ``text``, or raises ``error``; counts its calls."""

    def __init__(self, text="想周末试驾", error=None):
        self.text, self.error, self.calls = text, error, 0

    def transcribe(self, audio, media_type, language):
        self.calls += 1
        if self.error:
            raise self.error
        return self.text


def test_english_speech_is_transcribed_once_by_two_replicas_into_the_notes_and_announced(
        followups, blob_dir, speech, tmp_path):  # noqa: F811
    # .ci/run installs it: without it this test proves nothing, so it fails rather than skips
    assert shutil.which("espeak-ng"), "espeak-ng is not installed (apt-get install espeak-ng): no speech to transcribe"
    wav = tmp_path / "note.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "120", "-w", str(wav),
                    "call me back tomorrow"], check=True, timeout=30)
    speech("pocketsphinx")
    with followups() as session:
        note = a_record(session)
        voice = attachments.add(session, OWNER, note.id, "note.wav", "audio/wav", wav.read_bytes())
        photo = attachments.add(session, OWNER, note.id, "car.png", "image/png", png())
        assert (voice.transcript_status, photo.transcript_status) == ("pending", "none")
        assert transcription.transcribe_pending(session, owner="replica-1") == 1
        assert transcription.transcribe_pending(session, owner="replica-2") == 0, "each recording once"
        voice = session.get(Attachment, voice.id, populate_existing=True)
        words = set(voice.transcript.split())
        assert voice.transcript_status == "done" and voice.transcribed_at is not None
        assert "tomorrow" in words, voice.transcript  # the small model is rough; this word it gets
        note = session.get(FollowupRecord, note.id, populate_existing=True)
        assert note.notes == f"客户说周末有空\n\n{MARK} {voice.transcript}"
        typed, spoken = events(session, "followup_recorded")
        assert "transcript" not in typed or typed["transcript"] is False
        assert spoken["transcript"] is True and spoken["first"] is False
        assert spoken["record_id"] == note.id and spoken["notes"] == voice.transcript


def test_a_whisper_compatible_server_transcribes_a_note_without_notes(
        followups, blob_dir, speech, speech_server):  # noqa: F811
    speech(f"{speech_server.url}?language=zh")
    with followups() as session:
        note = a_record(session, notes=None)
        voice = attachments.add(session, OWNER, note.id, None, None, sine_wav(440, 0.2, 16000))
        assert transcription.transcribe_pending(session) == 1
        [seen] = speech_server.seen
        assert seen["parts"]["language"].get_content().strip() == "zh"
        assert session.get(FollowupRecord, note.id, populate_existing=True).notes == f"{MARK} 客户想周末试驾，关心续航。"
        assert session.get(Attachment, voice.id, populate_existing=True).transcript == "客户想周末试驾，关心续航。"
        assert events(session, "followup_recorded")[-1]["notes"] == "客户想周末试驾，关心续航。"


def test_a_replica_that_dies_mid_way_is_taken_over_when_its_lease_runs_out(followups, blob_dir, speech):  # noqa: F811
    speech("http://127.0.0.1:9")
    now = utcnow()
    with followups() as session:
        note = a_record(session)
        voice = attachments.add(session, OWNER, note.id, "n.wav", "audio/wav", sine_wav(440, 0.2, 16000))
        assert transcription.claim(session, now, "dead-replica").id == voice.id   # ... and it dies
        assert transcription.transcribe_pending(session, Saying(), "replica-2", now + timedelta(minutes=1)) == 0
        later = now + transcription.LEASE + timedelta(seconds=1)
        assert transcription.transcribe_pending(session, Saying(), "replica-2", later) == 1
        assert transcription.settle(session, voice.id, "dead-replica", later, text="late") == 0, "its claim is gone"
        voice = session.get(Attachment, voice.id, populate_existing=True)
        assert (voice.transcript_status, voice.transcript, voice.transcript_attempts) == ("done", "想周末试驾", 2)
        assert session.get(FollowupRecord, note.id, populate_existing=True).notes.count(MARK) == 1


def test_a_server_that_is_down_is_tried_again_later_then_the_recording_fails_with_why(
        followups, blob_dir, speech):  # noqa: F811
    speech("http://127.0.0.1:9")
    down = Saying(error=TranscriptionUnavailable("the speech server is unreachable: ConnectionError"))
    now = utcnow()
    with followups() as session:
        note = a_record(session)
        voice = attachments.add(session, OWNER, note.id, "n.wav", "audio/wav", sine_wav(440, 0.2, 16000))
        for attempt in range(1, transcription.MAX_ATTEMPTS + 1):
            assert transcription.transcribe_pending(session, down, now=now) == 1
            assert transcription.transcribe_pending(session, down, now=now) == 0, "not again at once"
            now += transcription.RETRY_AFTER * 2 ** attempt
        voice = session.get(Attachment, voice.id, populate_existing=True)
        assert down.calls == transcription.MAX_ATTEMPTS
        assert voice.transcript_status == "failed" and "unreachable" in voice.transcript_error
        assert transcription.transcribe_pending(session, down, now=now + timedelta(days=1)) == 0
        assert session.get(FollowupRecord, note.id, populate_existing=True).notes == "客户说周末有空"
        assert len(events(session, "followup_recorded")) == 1


def test_nothing_is_pending_without_an_engine_and_an_erased_customers_recording_gets_no_transcript(
        followups, blob_dir, speech):  # noqa: F811
    from services.followups import handlers
    from tests.integration.test_followup_tasks import CustomerErased, event

    speech(None)
    with followups() as session:
        note = a_record(session)
        quiet = attachments.add(session, OWNER, note.id, "n.wav", "audio/wav", sine_wav(440, 0.2, 16000))
        assert quiet.transcript_status == "none"
        assert transcription.transcribe_pending(session) == 0
        speech("pocketsphinx")
        voice = attachments.add(session, OWNER, note.id, "m.wav", "audio/wav", sine_wav(440, 0.2, 16000))
        assert transcription.claim(session, utcnow(), "replica-1").id == voice.id
        published(session)
        handlers.forget_customer(session, event(CustomerErased, customer_id="c-1", lead_ids=["l-1"]))
        assert transcription.settle(session, voice.id, "replica-1", text="call me back") == 0
        assert session.get(FollowupRecord, note.id, populate_existing=True).notes is None
        assert session.get(Attachment, voice.id) is None
