"""Voice notes into words: the speech-to-text seam of the followups service.

A ``Transcriber`` turns a recording's bytes into text:
``transcribe(audio, media_type, language) -> str`` (``language`` an ISO 639-1
code such as ``"zh"`` or ``"en"``; None: the engine's own). ``transcriber(url)``
picks one from ``FOLLOWUPS_SPEECH``:

- unset, empty or ``none``: None, no transcription (attachments are kept as
  they are, ``transcript_status`` ``none``);
- ``pocketsphinx``: CMU PocketSphinx with the small US English model its
  wheel ships (no download, no server; rough, English only). It needs
  16 kHz mono 16-bit PCM: a WAV file is read with the stdlib ``wave`` and
  resampled here (``pcm16k``); any other format (WebM/Opus from the
  browser's MediaRecorder, MP3, M4A, AMR) is decoded by ``ffmpeg`` when it
  is installed, and refused with the reason otherwise. The decoding and the
  recognition run in a child process (``python -m
  services.followups.transcription``): they are CPU-bound C code that holds
  the GIL, which would stop every other greenthread of the service;
- ``http://host:port[/path]?model=...&language=...&timeout=...`` (or
  ``https``): a Whisper-compatible server, the OpenAI-style ``POST
  /v1/audio/transcriptions`` (multipart ``file`` and ``model``, JSON
  ``{"text": ...}`` back), as faster-whisper-server / speaches, whisper.cpp's
  server and FunASR's OpenAI-compatible gateways answer it. A URL with no
  path gets ``/v1/audio/transcriptions``; ``model`` defaults to
  ``whisper-1``, ``timeout`` (seconds to read the answer) to 300. A token
  goes in ``FOLLOWUPS_SPEECH_API_KEY`` (sent as ``Authorization: Bearer``),
  never in the URL.

Errors: ``TranscriptionError`` when trying again cannot help (bytes that do
not decode, no ffmpeg, a language the engine lacks, a 4xx answer), and
``TranscriptionUnavailable`` when it may (the server unreachable, a
timeout, 408/429/5xx): the worker tries those again later, a few times.

The worker (``transcribe_pending``, the service's timer every second in
every replica) never runs in the upload RPC: ``attachments.add`` marks a
recording ``pending`` when a transcriber is configured, and the timer
claims one at a time with a conditional UPDATE (``pending`` -> ``working``
with an owner and a lease), transcribes it outside any transaction, then
stores the transcript, appends it to the record's notes marked
``[语音转写 / voice note]`` and announces ``followup_recorded`` again
(``first`` false, ``transcript`` true, ``notes`` the transcript), all in one
transaction and only if it still holds the lease. A replica that dies
mid-way leaves a ``working`` row whose lease runs out; another takes it
over. Each recording is tried at most ``MAX_ATTEMPTS`` times.
"""
from __future__ import annotations

import functools
import io
import json
import logging
import math
import os
import shutil
import socket
import subprocess
import sys
import uuid
import wave
from array import array
from datetime import timedelta
from types import SimpleNamespace
from typing import Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from sqlalchemy import and_, or_, select, update

from dealerflow.contracts import FOLLOWUP_RECORDED
from dealerflow.db import utcnow
from dealerflow.outbox import record

log = logging.getLogger(__name__)

RATE = 16000                     # what PocketSphinx's model is trained on
MARK = "[语音转写 / voice note]"  # what a transcript appended to a record's notes starts with
LEASE = timedelta(minutes=15)    # a claim's life: longer than any one transcription may take
MAX_ATTEMPTS = 4                 # then the recording is marked failed
RETRY_AFTER = timedelta(seconds=30)  # the first wait after a transient failure; doubled each time
PER_TICK = 5                     # recordings one timer tick transcribes at most
DECODE_TIMEOUT = 600             # seconds for the child process (ffmpeg, PocketSphinx)
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac", "audio/ogg": "ogg",
              "audio/webm": "webm", "audio/wav": "wav", "audio/amr": "amr", "audio/amr-wb": "awb"}


class TranscriptionError(Exception):
    """A recording that cannot be transcribed, and will not be by trying again."""
    retry = False


class TranscriptionUnavailable(TranscriptionError):
    """The engine could not answer now (down, timed out, overloaded): try later."""
    retry = True


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, media_type: str, language: str | None) -> str: ...


# -- choosing one -----------------------------------------------------------------------

def transcriber(url: str | None) -> Transcriber | None:
    """The transcriber a ``FOLLOWUPS_SPEECH`` value names (see the module's doc); ValueError if none."""
    url = (url or "").strip()
    if url.lower() in ("", "none", "off"):
        return None
    if url.lower() == "pocketsphinx":
        return PocketSphinx()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"model", "language", "timeout"}
        if unknown:
            raise ValueError(f"unknown speech server options {sorted(unknown)} in FOLLOWUPS_SPEECH "
                             "(known: model, language, timeout)")
        if parts.username or parts.password:
            raise ValueError("put the speech server's token in FOLLOWUPS_SPEECH_API_KEY, not in the URL")
        try:
            timeout = float(query.get("timeout", 300))
        except ValueError:
            timeout = 0
        if not 0 < timeout <= LEASE.total_seconds() / 2:
            raise ValueError(f"timeout= is seconds, more than 0 and at most {LEASE.total_seconds() / 2:.0f}")
        path = parts.path if parts.path.strip("/") else "/v1/audio/transcriptions"
        return WhisperServer(urlunsplit((parts.scheme, parts.netloc, path, "", "")),
                             model=query.get("model") or "whisper-1", language=query.get("language") or None,
                             timeout=timeout, api_key=os.environ.get("FOLLOWUPS_SPEECH_API_KEY") or None)
    raise ValueError(f"FOLLOWUPS_SPEECH is unset (no transcription), 'pocketsphinx' or "
                     f"http(s)://host:port/v1/audio/transcriptions?model=...; got {url!r}")


@functools.cache
def engine() -> Transcriber | None:
    """This process's transcriber, from ``FOLLOWUPS_SPEECH``."""
    return transcriber(os.environ.get("FOLLOWUPS_SPEECH"))


# -- a Whisper-compatible server ----------------------------------------------------------

class WhisperServer:
    """OpenAI-style ``POST .../v1/audio/transcriptions``: one request, no retries here
    (the worker tries again later when the answer says it may help)."""

    def __init__(self, endpoint: str, *, model: str = "whisper-1", language: str | None = None,
                 timeout: float = 300.0, api_key: str | None = None):
        self.endpoint, self.model, self.language, self.timeout = endpoint, model, language, timeout
        self.api_key = api_key

    def __repr__(self):
        return f"WhisperServer({self.endpoint!r}, model={self.model!r}, language={self.language!r})"

    def transcribe(self, audio: bytes, media_type: str, language: str | None = None) -> str:
        data = {"model": self.model, "response_format": "json"}
        if language or self.language:
            data["language"] = language or self.language
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        name = f"voice-note.{EXTENSIONS.get(media_type, 'bin')}"
        try:
            answer = requests.post(self.endpoint, data=data, files={"file": (name, audio, media_type)},
                                   headers=headers, timeout=(5, self.timeout))
        except requests.Timeout:
            raise TranscriptionUnavailable(f"the speech server {self.endpoint} did not answer "
                                           f"within {self.timeout:.0f} s") from None
        except requests.RequestException as exc:
            raise TranscriptionUnavailable(f"the speech server {self.endpoint} is unreachable: "
                                           f"{type(exc).__name__}") from None
        said = answer.text[:200].strip()
        if answer.status_code in (408, 429) or answer.status_code >= 500:
            raise TranscriptionUnavailable(f"the speech server answered {answer.status_code}: {said}")
        if answer.status_code >= 400:
            raise TranscriptionError(f"the speech server refused the recording ({answer.status_code}): {said}")
        try:
            text = answer.json()["text"]
        except (ValueError, KeyError, TypeError):
            raise TranscriptionError(f"the speech server's answer has no text: {said}") from None
        if not isinstance(text, str):
            raise TranscriptionError("the speech server's text is not a string")
        return text.strip()


# -- PocketSphinx --------------------------------------------------------------------------

class PocketSphinx:
    """PocketSphinx's bundled US English model, in a child process."""

    languages = (None, "en")

    def __repr__(self):
        return "PocketSphinx()"

    def transcribe(self, audio: bytes, media_type: str, language: str | None = None) -> str:
        if language not in self.languages and not (language or "").lower().startswith("en"):
            raise TranscriptionError(f"pocketsphinx has an English model only, not {language!r}; "
                                     "configure a Whisper-compatible server for other languages")
        check_decodable(media_type)
        try:
            child = subprocess.run([sys.executable, "-m", "services.followups.transcription", media_type],
                                   input=audio, capture_output=True, timeout=DECODE_TIMEOUT,
                                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        except subprocess.TimeoutExpired:
            raise TranscriptionError(f"pocketsphinx took over {DECODE_TIMEOUT} s") from None
        try:
            answer = json.loads(child.stdout)
        except ValueError:
            raise TranscriptionUnavailable(f"the pocketsphinx process ended with {child.returncode}: "
                                           f"{child.stderr.decode(errors='replace')[-300:].strip()}") from None
        if "error" in answer:
            raise TranscriptionError(answer["error"])
        return answer["text"]


def check_decodable(media_type: str) -> None:
    """TranscriptionError unless this process can turn ``media_type`` into PCM."""
    if media_type not in WAV_TYPES and not shutil.which("ffmpeg"):
        raise TranscriptionError(f"{media_type} needs ffmpeg to be decoded for pocketsphinx, and ffmpeg is "
                                 "not installed here (only WAV is read without it); install ffmpeg or "
                                 "use a Whisper-compatible server")


def recognise(pcm: bytes) -> str:
    """English words in 16 kHz mono 16-bit PCM: each stretch of speech on its own."""
    from pocketsphinx import Decoder, Segmenter

    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    words = []
    for speech in Segmenter(sample_rate=RATE).segment(io.BytesIO(pcm)):
        decoder.start_utt()
        decoder.process_raw(speech.pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is not None and decoder.hyp().hypstr.strip():
            words.append(decoder.hyp().hypstr.strip())
    return " ".join(words)


# -- audio to 16 kHz mono PCM ----------------------------------------------------------------

def pcm16k(audio: bytes, media_type: str) -> bytes:
    """The recording as 16 kHz mono signed 16-bit little-endian PCM."""
    if media_type in WAV_TYPES:
        try:
            return wav_to_pcm16k(audio)
        except (wave.Error, EOFError) as exc:
            if not shutil.which("ffmpeg"):  # a float or extensible WAV: ffmpeg reads those
                raise TranscriptionError(f"this WAV cannot be read without ffmpeg ({exc})") from None
    return ffmpeg_pcm16k(audio, media_type)


def ffmpeg_pcm16k(audio: bytes, media_type: str) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        check_decodable(media_type)
    try:
        done = subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-vn", "-f", "s16le",
                               "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(RATE), "pipe:1"],
                              input=audio, capture_output=True, timeout=DECODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise TranscriptionError(f"ffmpeg took over {DECODE_TIMEOUT} s to decode {media_type}") from None
    if done.returncode != 0:
        raise TranscriptionError(f"ffmpeg could not decode the {media_type} recording: "
                                 f"{done.stderr.decode(errors='replace').strip()[-300:]}")
    return done.stdout


def wav_to_pcm16k(audio: bytes) -> bytes:
    """A PCM WAV (8, 16, 24 or 32-bit integer samples, any rate, any
    channels) as 16 kHz mono 16-bit PCM: channels averaged, then resampled."""
    with wave.open(io.BytesIO(audio), "rb") as reader:
        channels, width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    if rate <= 0 or channels <= 0:
        raise wave.Error(f"a WAV of {rate} Hz and {channels} channels")
    samples = to_int16(frames, width)
    if channels > 1:
        samples = array("h", (sum(samples[i:i + channels]) // channels
                              for i in range(0, len(samples) - channels + 1, channels)))
    return resample(samples, rate, RATE).tobytes()


def to_int16(frames: bytes, width: int) -> array:
    """Little-endian integer samples of ``width`` bytes as signed 16-bit ones."""
    if width == 2:
        samples = array("h", frames[:len(frames) // 2 * 2])
    elif width == 1:   # unsigned
        samples = array("h", ((byte - 128) << 8 for byte in frames))
    elif width in (3, 4):   # keep the two most significant bytes
        samples = array("h", (int.from_bytes(frames[i + width - 2:i + width], "little", signed=True)
                              for i in range(0, len(frames) - width + 1, width)))
    else:
        raise wave.Error(f"{width * 8}-bit samples")
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def resample(samples: array, rate: int, target: int = RATE) -> array:
    """Linear interpolation from ``rate`` to ``target`` Hz; when it goes down,
    a moving average over the ratio first, a plain low-pass filter that keeps
    most of what lies above the new Nyquist frequency from folding back."""
    if rate == target or not samples:
        return array("h", samples)
    values = samples
    ratio = rate / target
    width = int(round(ratio))
    if width > 1:
        running, averaged, total = 0, [], 0
        for i, value in enumerate(values):
            total += value
            if i >= width:
                total -= values[i - width]
            running = total // min(i + 1, width)
            averaged.append(running)
        values = averaged
    count = int(len(values) * target / rate)
    last = len(values) - 1
    out = array("h", bytes(2 * count))
    for j in range(count):
        position = j * ratio
        i = int(position)
        fraction = position - i
        after = values[i + 1] if i < last else values[last]
        out[j] = max(-32768, min(32767, int(round(values[i] + (after - values[i]) * fraction))))
    return out


def sine_wav(frequency: float, seconds: float, rate: int, channels: int = 1, width: int = 2,
             amplitude: float = 0.5) -> bytes:
    """A WAV of a sine tone (the resampler's tests and the docs' examples)."""
    frames = bytearray()
    top = (1 << (8 * width - 1)) - 1
    for n in range(int(seconds * rate)):
        value = int(round(amplitude * top * math.sin(2 * math.pi * frequency * n / rate)))
        sample = (value + 128).to_bytes(1, "little") if width == 1 else value.to_bytes(width, "little", signed=True)
        frames += sample * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return buffer.getvalue()


# -- the worker ----------------------------------------------------------------------------------

OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimable(attachment, now):
    return or_(and_(attachment.transcript_status == "pending",
                    or_(attachment.transcript_lease_until.is_(None), attachment.transcript_lease_until <= now)),
               and_(attachment.transcript_status == "working", attachment.transcript_lease_until <= now))


def claim(session, now, owner: str) -> SimpleNamespace | None:
    """One recording waiting for its transcript, now this owner's for ``LEASE``
    (what the work needs of its row, the transaction ended); None if none is.
    A conditional UPDATE decides between replicas that pick the same one."""
    from services.followups.models import Attachment

    for attachment_id in session.scalars(select(Attachment.id).where(claimable(Attachment, now))
                                         .order_by(Attachment.created_at).limit(10)).all():
        taken = session.execute(
            update(Attachment).where(Attachment.id == attachment_id, claimable(Attachment, now))
            .values(transcript_status="working", transcript_owner=owner, transcript_lease_until=now + LEASE,
                    transcript_attempts=Attachment.transcript_attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if taken:
            row = session.get(Attachment, attachment_id, populate_existing=True)
            claimed = SimpleNamespace(id=row.id, key=row.key, media_type=row.media_type,
                                      transcript_attempts=row.transcript_attempts,
                                      transcript_error=row.transcript_error)
            session.rollback()  # no transaction stays open while the recording is transcribed
            return claimed
    return None


def transcribe_pending(session, engine_: Transcriber | None = None, owner: str = OWNER, now=None,
                       limit: int = PER_TICK) -> int:
    """Transcribe up to ``limit`` recordings waiting for it; how many were
    finished (done or failed). Every replica's timer calls it every second."""
    engine_ = engine_ if engine_ is not None else engine()
    if engine_ is None:
        return 0
    finished = 0
    for _ in range(limit):
        attached = claim(session, now or utcnow(), owner)
        if attached is None:
            break
        finished += transcribe_one(session, engine_, attached, owner, now)
    return finished


def transcribe_one(session, engine_: Transcriber, attached, owner: str, now=None) -> int:
    from services.followups import attachments
    from services.followups.blobs import BlobNotFound

    if attached.transcript_attempts > MAX_ATTEMPTS:
        return settle(session, attached.id, owner, now, error=f"gave up after {MAX_ATTEMPTS} attempts; "
                      f"the last: {attached.transcript_error or 'it did not finish (a replica stopped?)'}")
    try:
        audio = attachments.store().get(attached.key)
        text = engine_.transcribe(audio, attached.media_type, None)
    except BlobNotFound:
        return settle(session, attached.id, owner, now, error="the recording's file is gone")
    except TranscriptionError as exc:
        log.warning("transcribing attachment %s failed (%s): %s", attached.id,
                    "will try again" if exc.retry else "for good", exc)
        if exc.retry and attached.transcript_attempts < MAX_ATTEMPTS:
            return settle(session, attached.id, owner, now, error=str(exc), retry=attached.transcript_attempts)
        return settle(session, attached.id, owner, now, error=str(exc))
    except Exception as exc:  # an engine's bug: the recording fails, the timer goes on
        log.exception("transcribing attachment %s failed", attached.id)
        return settle(session, attached.id, owner, now, error=f"{type(exc).__name__}: {exc}"[:500])
    return settle(session, attached.id, owner, now, text=text)


def settle(session, attachment_id: str, owner: str, now=None, *, text: str | None = None,
           error: str | None = None, retry: int | None = None) -> int:
    """Store what came of a claim, if the claim still holds (its lease not
    taken over, the attachment not erased): 1 if stored, 0 if not."""
    from services.followups.models import Attachment, FollowupRecord, OutboxMessage

    now = now or utcnow()
    if retry is not None:
        values = dict(transcript_status="pending", transcript_error=error[:500], transcript_owner=None,
                      transcript_lease_until=now + RETRY_AFTER * 2 ** (retry - 1))
    elif error is not None:
        values = dict(transcript_status="failed", transcript_error=error[:500], transcript_owner=None,
                      transcript_lease_until=None, transcribed_at=now)
    else:
        values = dict(transcript_status="done", transcript=text, transcript_error=None, transcript_owner=None,
                      transcript_lease_until=None, transcribed_at=now)
    held = session.execute(update(Attachment).where(Attachment.id == attachment_id,
                                                    Attachment.transcript_status == "working",
                                                    Attachment.transcript_owner == owner)
                           .values(**values).execution_options(synchronize_session=False)).rowcount
    if not held:
        session.rollback()
        log.info("attachment %s: the transcript claim was lost (taken over or erased); dropped", attachment_id)
        return 0
    if text and text.strip():
        attached = session.get(Attachment, attachment_id, populate_existing=True)
        note = session.get(FollowupRecord, attached.record_id, with_for_update=True, populate_existing=True)
        if note is not None:
            marked = f"{MARK} {text.strip()}"
            note.notes = f"{note.notes.rstrip()}\n\n{marked}" if note.notes and note.notes.strip() else marked
            record(session, OutboxMessage, FOLLOWUP_RECORDED, record_id=note.id, lead_id=note.lead_id,
                   store_code=note.store_code, consultant_id=note.consultant_id, channel=note.channel,
                   direction=note.direction, outcome=note.outcome, notes=text.strip(), first=False,
                   transcript=True, recorded_at=note.created_at)
    session.commit()
    return 1


def main(argv: list[str]) -> int:
    """The child process: the recording on stdin, ``{"text": ...}`` or ``{"error": ...}`` on stdout."""
    media_type = argv[1] if len(argv) > 1 else "audio/wav"
    try:
        answer = {"text": recognise(pcm16k(sys.stdin.buffer.read(), media_type))}
    except TranscriptionError as exc:
        answer = {"error": str(exc)}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
