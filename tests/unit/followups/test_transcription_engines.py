"""services.followups.transcription: which engine FOLLOWUPS_SPEECH names,
WAVs turned into 16 kHz mono PCM (sine tones: length, pitch, loudness,
aliasing), the Whisper-compatible client against a small HTTP server on
loopback (its multipart request; its answers and failures), and the
refusals that say why."""
import email.parser
import email.policy
import json
import math
import threading
import time
from array import array
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.followups import transcription
from services.followups.transcription import (
    PocketSphinx,
    TranscriptionError,
    TranscriptionUnavailable,
    WhisperServer,
    sine_wav,
    transcriber,
    wav_to_pcm16k,
)

# -- FOLLOWUPS_SPEECH ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [None, "", "  ", "none", "off"])
def test_unset_means_no_transcription(url):
    assert transcriber(url) is None


def test_pocketsphinx_by_name():
    assert isinstance(transcriber("pocketsphinx"), PocketSphinx)


@pytest.mark.parametrize("url, endpoint, model, language, timeout", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/audio/transcriptions", "whisper-1", None, 300),
    ("http://asr.local:10095/", "http://asr.local:10095/v1/audio/transcriptions", "whisper-1", None, 300),
    ("https://asr.example.cn/v1/audio/transcriptions?model=iic/SenseVoiceSmall&language=zh&timeout=60",
     "https://asr.example.cn/v1/audio/transcriptions", "iic/SenseVoiceSmall", "zh", 60),
    ("http://10.0.0.5:8080/inference?model=large-v3", "http://10.0.0.5:8080/inference", "large-v3", None, 300),
])
def test_a_whisper_compatible_server_by_url(url, endpoint, model, language, timeout):
    engine = transcriber(url)
    assert isinstance(engine, WhisperServer)
    assert (engine.endpoint, engine.model, engine.language, engine.timeout) == (endpoint, model, language, timeout)


def test_the_servers_token_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FOLLOWUPS_SPEECH_API_KEY", "sk-test")
    assert transcriber("http://127.0.0.1:8000").api_key == "sk-test"
    assert "sk-test" not in repr(transcriber("http://127.0.0.1:8000"))


@pytest.mark.parametrize("url, says", [
    ("whisper", "pocketsphinx"),
    ("ftp://asr.local/", "http(s)://"),
    ("http://asr.local/?modle=x", "modle"),
    ("http://user:secret@asr.local/", "FOLLOWUPS_SPEECH_API_KEY"),
    ("http://asr.local/?timeout=0", "timeout"),
    ("http://asr.local/?timeout=soon", "timeout"),
    ("http:///v1/audio/transcriptions", "http(s)://"),
])
def test_a_value_that_names_no_engine_is_refused_with_what_is_expected(url, says):
    with pytest.raises(ValueError) as refused:
        transcriber(url)
    assert says in str(refused.value)


# -- WAV to 16 kHz mono PCM -----------------------------------------------------------------

def crossings(pcm: bytes) -> int:
    samples = array("h", pcm)
    return sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))


def peak(pcm: bytes) -> int:
    return max(abs(value) for value in array("h", pcm))


@pytest.mark.parametrize("rate, channels, width", [
    (44100, 2, 2), (48000, 1, 3), (22050, 1, 2), (8000, 1, 1), (16000, 1, 2), (32000, 2, 4),
])
def test_a_sine_keeps_its_length_pitch_and_loudness(rate, channels, width):
    pcm = wav_to_pcm16k(sine_wav(440, 1.0, rate, channels, width, amplitude=0.5))
    assert abs(len(pcm) // 2 - 16000) <= 1
    assert abs(crossings(pcm) - 880) <= 8, "440 Hz is 880 zero crossings a second"
    assert 0.45 * 32767 <= peak(pcm) <= 0.52 * 32767


def test_going_down_filters_what_would_fold_back():
    # 12 kHz cannot exist at 16 kHz (Nyquist: 8 kHz): unfiltered it would come back loud at 4 kHz
    pcm = wav_to_pcm16k(sine_wav(12000, 0.5, 48000, amplitude=0.5))
    assert peak(pcm) < 0.5 * 0.4 * 32767


def test_silence_and_empty_wavs():
    assert wav_to_pcm16k(sine_wav(440, 0, 44100)) == b""
    assert peak(wav_to_pcm16k(sine_wav(440, 0.2, 44100, amplitude=0))) == 0


def test_a_wav_that_is_not_one_is_refused_without_ffmpeg(monkeypatch):
    monkeypatch.setattr(transcription.shutil, "which", lambda name: None)
    with pytest.raises(TranscriptionError) as refused:
        transcription.pcm16k(b"RIFF\x10\x00\x00\x00WAVEfmt garbage", "audio/wav")
    assert "ffmpeg" in str(refused.value) and not refused.value.retry


# -- PocketSphinx's refusals -------------------------------------------------------------------

def test_pocketsphinx_refuses_a_language_it_has_no_model_for():
    with pytest.raises(TranscriptionError) as refused:
        PocketSphinx().transcribe(sine_wav(440, 0.1, 16000), "audio/wav", "zh")
    assert "English" in str(refused.value) and "Whisper" in str(refused.value)


@pytest.mark.parametrize("media_type", ["audio/webm", "audio/ogg", "audio/amr", "audio/mpeg", "audio/mp4"])
def test_without_ffmpeg_only_wav_is_decoded_and_the_refusal_says_why(monkeypatch, media_type):
    monkeypatch.setattr(transcription.shutil, "which", lambda name: None)
    with pytest.raises(TranscriptionError) as refused:
        PocketSphinx().transcribe(b"\x1a\x45\xdf\xa3 not decoded", media_type, None)
    assert f"{media_type} needs ffmpeg" in str(refused.value) and not refused.value.retry


# -- a Whisper-compatible server ---------------------------------------------------------------

class Speech(BaseHTTPRequestHandler):
    """POST /v1/audio/transcriptions as OpenAI's API, faster-whisper-server or
    FunASR's gateway answer it; what it answers is set on the server."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        self.server.seen.append({"path": self.path, "authorization": self.headers.get("Authorization"),
                                 "parts": parts})
        time.sleep(self.server.delay)
        status, answer = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def speech_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Speech)
    server.seen, server.delay = [], 0
    server.handle_error = lambda request, address: None   # a client that gave up (the timeout test)
    server.answer = (200, json.dumps({"text": " 客户想周末试驾，关心续航。 "}).encode())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_the_recording_goes_as_multipart_file_and_model_and_the_text_comes_back(speech_server, monkeypatch):
    monkeypatch.setenv("FOLLOWUPS_SPEECH_API_KEY", "sk-test")
    engine = transcriber(f"{speech_server.url}?model=iic/SenseVoiceSmall&language=zh")
    audio = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4
    assert engine.transcribe(audio, "audio/webm", None) == "客户想周末试驾，关心续航。"
    [seen] = speech_server.seen
    assert seen["path"] == "/v1/audio/transcriptions" and seen["authorization"] == "Bearer sk-test"
    parts = seen["parts"]
    assert parts["file"].get_filename() == "voice-note.webm"
    assert parts["file"].get_content_type() == "audio/webm"
    assert parts["file"].get_content() == audio
    assert parts["model"].get_content().strip() == "iic/SenseVoiceSmall"
    assert parts["language"].get_content().strip() == "zh"
    engine.transcribe(audio, "audio/amr", "en")   # the caller's language wins
    assert speech_server.seen[1]["parts"]["language"].get_content().strip() == "en"
    assert speech_server.seen[1]["parts"]["file"].get_filename() == "voice-note.amr"


@pytest.mark.parametrize("status, answer, error, retry", [
    (503, b'{"error": "loading model"}', "503", True),
    (429, b'{"error": "slow down"}', "429", True),
    (400, b'{"error": "unsupported audio"}', "unsupported audio", False),
    (200, b"<html>proxy login</html>", "no text", False),
    (200, b'{"segments": []}', "no text", False),
])
def test_a_failed_answer_says_why_and_whether_trying_again_may_help(speech_server, status, answer, error, retry):
    speech_server.answer = (status, answer)
    with pytest.raises(TranscriptionError) as failed:
        transcriber(speech_server.url).transcribe(b"RIFF....", "audio/wav", None)
    assert error in str(failed.value) and failed.value.retry is retry


def test_a_server_that_is_down_or_slow_is_unavailable_not_a_bad_recording(speech_server):
    speech_server.delay = 1.0
    slow = WhisperServer(f"{speech_server.url}/v1/audio/transcriptions", timeout=0.2)
    with pytest.raises(TranscriptionUnavailable) as failed:
        slow.transcribe(b"RIFF....", "audio/wav", None)
    assert "did not answer within" in str(failed.value)
    down = transcriber("http://127.0.0.1:9")   # discard: nothing listens
    started = time.monotonic()
    with pytest.raises(TranscriptionUnavailable) as failed:
        down.transcribe(b"RIFF....", "audio/wav", None)
    assert "unreachable" in str(failed.value) and time.monotonic() - started < 5


def test_sine_wav_is_what_it_says():
    wav = sine_wav(1000, 0.01, 8000)
    assert wav.startswith(b"RIFF") and b"WAVE" in wav[:12]
    assert math.isclose(len(wav_to_pcm16k(wav)) / 2, 160, abs_tol=1)
