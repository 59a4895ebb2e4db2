"""services.followups.blobs: which attachments are accepted (by their bytes),
their size limits, safe keys, and the local and S3-compatible stores.

The S3 store is tested over real HTTP on loopback against a small S3 server
defined here that checks every request's AWS Signature V4 (moto cannot be
installed beside the project: botocore pins python-dateutil<3, the project
pins 4.0.0)."""
import email.utils
import hashlib
import hmac
import io
import os
import struct
import threading
import wave
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minio.error import S3Error

from services.followups import blobs
from services.followups.blobs import (
    ACCEPTED,
    AUDIO_LIMIT,
    PHOTO_LIMIT,
    BlobError,
    BlobNotFound,
    LocalBlobs,
    S3Blobs,
    blob_store,
    check,
    check_key,
)

# --- sample files, made here ----------------------------------------------------------------------


def png(extra: int = 0) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)            # 1x1, 8-bit greyscale
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    padding = chunk(b"tEXt", b"c\x00" + b"x" * (extra - 14)) if extra else b""
    return b"\x89PNG\r\n\x1a\n" + body + padding + chunk(b"IEND", b"")


JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65)) + b"\xff\xd9")
WEBP = (b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88"
        b"\xfe\x07\x00")                                                 # 1x1 lossless


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    return box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compatible))


def handler(kind: bytes) -> bytes:
    return box(b"hdlr", b"\x00" * 8 + kind + b"\x00" * 12 + b"\x00")


def mp4(major: bytes, *tracks: bytes) -> bytes:
    moov = box(b"moov", b"".join(box(b"trak", box(b"mdia", handler(track))) for track in tracks))
    return ftyp(major, major, b"isom") + moov + box(b"mdat", b"\x00" * 64)


HEIC = ftyp(b"heic", b"mif1", b"heic") + box(b"meta", b"\x00" * 4 + handler(b"pict"))
M4A = mp4(b"M4A ", b"soun")                                         # an iPhone voice memo's shape
MP4_AUDIO = mp4(b"isom", b"soun")                                   # Android recorders: mp4, audio only
MP4_VIDEO = mp4(b"isom", b"vide", b"soun")
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413                     # MPEG-1 layer III, 128 kbit/s
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME * 3
AAC = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 9                  # one ADTS frame
AMR = b"#!AMR\n" + b"\x3c" + b"\x00" * 31                            # one 12.2 kbit/s frame
AMR_WB = b"#!AMR-WB\n" + b"\x44" + b"\x00" * 60


def ogg(first_packet: bytes) -> bytes:
    return (b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + b"\x01"
            + bytes([len(first_packet)]) + first_packet)


OGG_OPUS = ogg(b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
OGG_THEORA = ogg(b"\x80theora\x03\x02\x01" + b"\x00" * 30)


def ebml(element_id: bytes, payload: bytes) -> bytes:
    return element_id + bytes([0x80 | len(payload)]) + payload if len(payload) < 127 else (
        element_id + b"\x01" + len(payload).to_bytes(7, "big") + payload)


def webm(*codecs: bytes) -> bytes:
    """What MediaRecorder writes: EBML header, a Segment of unknown size,
    Tracks, then Clusters."""
    header = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x86", b"\x01") + ebml(b"\x42\x82", b"webm")
                  + ebml(b"\x42\x87", b"\x04") + ebml(b"\x42\x85", b"\x02"))
    tracks = ebml(b"\x16\x54\xae\x6b", b"".join(
        ebml(b"\xae", ebml(b"\xd7", bytes([n + 1])) + ebml(b"\x83", b"\x01" if codec[:1] == b"V" else b"\x02")
             + ebml(b"\x86", codec)) for n, codec in enumerate(codecs)))
    # a frame whose bytes look like a video CodecID: what follows the first Cluster is not read
    frame = b"\x81\x00\x00\x80" + b"\x86\x85V_VP8" * 4
    cluster = ebml(b"\x1f\x43\xb6\x75", ebml(b"\xe7", b"\x00") + ebml(b"\xa3", frame))
    return header + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + tracks + cluster


def wav(frames: int = 800) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\x00\x01" * frames)
    return out.getvalue()


def wav_of_size(size: int) -> bytes:
    sample = wav(1)
    return sample[:-2] + b"\x00" * (size - len(sample) + 2)


ACCEPTED_SAMPLES = [
    ("photo.jpg", JPEG, "image/jpeg", "image/jpeg", "jpg"),
    ("photo.png", png(), "image/png", "image/png", "png"),
    ("photo.webp", WEBP, "image/webp", "image/webp", "webp"),
    ("IMG_0001.HEIC", HEIC, "image/heic", "image/heic", "heic"),
    ("note.mp3", MP3, "audio/mpeg", "audio/mpeg", "mp3"),
    ("frame.mp3", MP3_FRAME * 3, None, "audio/mpeg", "mp3"),
    ("memo.m4a", M4A, "audio/x-m4a", "audio/mp4", "m4a"),
    ("rec.m4a", MP4_AUDIO, "audio/mp4", "audio/mp4", "m4a"),
    ("note.aac", AAC, "audio/aac", "audio/aac", "aac"),
    ("note.ogg", OGG_OPUS, "audio/ogg; codecs=opus", "audio/ogg", "ogg"),
    ("blob", webm(b"A_OPUS"), "audio/webm;codecs=opus", "audio/webm", "webm"),
    ("note.wav", wav(), "audio/wav", "audio/wav", "wav"),
    ("call.amr", AMR, "audio/amr", "audio/amr", "amr"),
    ("call.awb", AMR_WB, None, "audio/amr-wb", "awb"),
]


@pytest.mark.parametrize("filename, content, declared, media_type, extension", ACCEPTED_SAMPLES,
                         ids=[sample[0] for sample in ACCEPTED_SAMPLES])
def test_each_accepted_type_is_known_by_its_bytes(filename, content, declared, media_type, extension):
    assert check(content, filename, declared) == (media_type, extension)
    assert check(content, "upload", None) == (media_type, extension)     # name and type add nothing


REFUSED_SAMPLES = [
    ("a PDF", "quote.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    ("an EXE", "setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54 + b"PE\x00\x00", None),
    ("text", "note.txt", "客户说下周来店看车".encode(), "text/plain"),
    ("a GIF", "smile.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    ("a ZIP", "photos.zip", b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
    ("an MP4 video", "clip.mp4", MP4_VIDEO, "video/mp4"),
    ("a WebM video", "clip.webm", webm(b"V_VP8", b"A_OPUS"), "video/webm"),
    ("an Ogg Theora video", "clip.ogv", OGG_THEORA, "video/ogg"),
    ("a text file named .jpg", "photo.jpg", b"not a photo at all", "image/jpeg"),
    ("an EXE declared as a photo", "photo.png", b"MZ" + b"\x00" * 100, "image/png"),
]


@pytest.mark.parametrize("what, filename, content, declared", REFUSED_SAMPLES,
                         ids=[sample[0] for sample in REFUSED_SAMPLES])
def test_other_types_are_refused_naming_what_is_accepted(what, filename, content, declared):
    with pytest.raises(BlobError) as refused:
        check(content, filename, declared)
    assert refused.value.reason == "type" and refused.value.field == "file"
    assert "photos (JPEG, PNG, WebP, HEIC) and audio (MP3" in str(refused.value)


def test_video_is_named_as_the_reason():
    with pytest.raises(BlobError, match=r"video/mp4 \(video is not accepted\)"):
        check(MP4_VIDEO, "clip.mp4", "video/mp4")


def test_a_browser_calling_an_audio_webm_or_mp4_video_is_no_objection():
    assert check(webm(b"A_OPUS"), "recording.webm", "video/webm") == ("audio/webm", "webm")
    assert check(MP4_AUDIO, "recording.mp4", "video/mp4") == ("audio/mp4", "m4a")


def test_within_a_kind_the_bytes_win():
    """A PNG named .jpg (phones and WeChat do it) is stored as the PNG it is."""
    assert check(png(), "IMG_0001.jpg", "image/jpeg") == ("image/png", "png")
    assert check(MP3, "note.wav", "audio/wav") == ("audio/mpeg", "mp3")


@pytest.mark.parametrize("filename, declared", [
    ("photo.mp3", None),                # a PNG renamed .mp3
    ("photo.png", "audio/mpeg"),        # or declared as audio
    ("photo", "audio/mpeg"),
])
def test_a_photo_sent_as_audio_is_refused(filename, declared):
    with pytest.raises(BlobError, match=r"\(audio\) but its content is image/png \(photo\)") as refused:
        check(png(), filename, declared)
    assert refused.value.reason == "type"


def test_audio_sent_as_a_photo_is_refused():
    with pytest.raises(BlobError, match=r"declared as image/jpeg \(photo\) but its content is audio/amr"):
        check(AMR, "call.amr", "image/jpeg")
    with pytest.raises(BlobError, match=r"named \.jpg \(photo\)"):
        check(AMR, "call.jpg", None)


def test_empty_is_refused():
    with pytest.raises(BlobError, match="empty") as refused:
        check(b"", "photo.jpg", "image/jpeg")
    assert refused.value.reason == "empty"


def test_a_photo_may_be_10_mib_and_not_a_byte_more():
    assert PHOTO_LIMIT == 10 * 1024 * 1024
    assert len(png(PHOTO_LIMIT - len(png()))) == PHOTO_LIMIT
    assert check(png(PHOTO_LIMIT - len(png())), "p.png", "image/png") == ("image/png", "png")
    with pytest.raises(BlobError, match=r"photos may be at most 10\.0 MiB; this file is .*10,485,761 bytes") \
            as refused:
        check(png(PHOTO_LIMIT - len(png()) + 1), "p.png", "image/png")
    assert refused.value.reason == "too_large"


def test_audio_may_be_25_mib_and_not_a_byte_more():
    assert AUDIO_LIMIT == 25 * 1024 * 1024
    assert check(wav_of_size(AUDIO_LIMIT), "n.wav", "audio/wav") == ("audio/wav", "wav")
    with pytest.raises(BlobError, match=r"audio may be at most 25\.0 MiB and photos at most 10\.0 MiB") \
            as refused:
        check(wav_of_size(AUDIO_LIMIT + 1), "n.wav", "audio/wav")
    assert refused.value.reason == "too_large"


def test_blob_error_is_a_value_error_with_a_field():
    error = BlobError("the file is empty", "attachment")
    assert isinstance(error, ValueError)
    assert (error.message, error.field, str(error)) == (
        "the file is empty", "attachment", "the file is empty")


MAGICS = [b"", b"\xff\xd8\xff", b"\x89PNG", b"RIFF\x00\x00\x00\x00WEBP", b"RIFF\x00\x00\x00\x00WAVE",
          b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x18ftypisom", b"\x00\x00\x00\x18ftypM4A ",
          b"ID3", b"\xff\xfb", b"\xff\xf1", b"OggS", b"#!AMR\n", b"#!AMR-WB\n", b"\x1a\x45\xdf\xa3",
          b"\x1a\x45\xdf\xa3\x42\x82\x84webm", b"hdlr", b"%PDF", b"MZ"]


@given(st.sampled_from(MAGICS), st.binary(max_size=2048), st.text(max_size=30),
       st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["image/png", "audio/webm", "video/mp4"])))
def test_arbitrary_bytes_never_crash_check(magic, tail, filename, declared):
    try:
        media_type, extension = check(magic + tail, filename, declared)
    except BlobError as refused:
        assert refused.reason in ("empty", "type") and str(refused)
    else:
        assert (media_type, extension) in {(stored, ext) for _, stored, ext in ACCEPTED.values()}


# --- keys -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["../x.png", "a/../../x.png", "/etc/passwd", "a\\..\\x.png", "a/b\x00.png",
                                 "", "a//b.png", "a/", "./a.png", ".hidden", "a/.x.png.tmp", "C:x.png",
                                 "a/b c.png", "x" * 600])
def test_keys_that_could_escape_or_surprise_are_refused(key, tmp_path):
    with pytest.raises(ValueError, match="refused blob key"):
        LocalBlobs(tmp_path).put(key, b"x", "image/png")
    assert list(tmp_path.iterdir()) == []


def test_the_callers_keys_are_accepted():
    assert check_key("42/3f1c2d4e-9a7b-4c1d-8e2f-0a1b2c3d4e5f.m4a")
    assert check_key("L-2026-0001/abc_def.jpg")


@given(st.lists(st.sampled_from(list("ab./\\\x00:~-_%\u2025\uff0e") + ["..", "/..", "../", "C:"]),
                max_size=16).map("".join))
def test_no_accepted_key_leaves_the_directory(key):
    root = Path("/srv/blobs")
    try:
        path = LocalBlobs(root).path(key)
    except ValueError:
        return
    resolved = Path(os.path.normpath(path))
    assert resolved != root and resolved.is_relative_to(root)
    assert resolved.relative_to(root).as_posix() == key


# --- LocalBlobs -----------------------------------------------------------------------------------

def test_local_blobs_round_trip(tmp_path):
    store = LocalBlobs(tmp_path / "blobs")
    key = "42/3f1c2d4e.png"
    assert not store.exists(key)
    store.put(key, png(), "image/png")
    assert store.exists(key) and store.get(key) == png()
    assert (tmp_path / "blobs" / "42" / "3f1c2d4e.png").read_bytes() == png()
    store.put(key, JPEG, "image/jpeg")
    assert store.get(key) == JPEG
    store.delete(key)
    store.delete(key)                                   # deleting twice is no error
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
    assert [p.name for p in (tmp_path / "blobs" / "42").iterdir()] == []


@pytest.mark.parametrize("fails", ["fsync", "replace"])
def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch, fails):
    store = LocalBlobs(tmp_path)
    store.put("7/old.png", png(), "image/png")

    def broken(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(blobs.os, fails, broken)
    for key in ("7/new.png", "7/old.png"):
        with pytest.raises(OSError, match="No space"):
            store.put(key, JPEG, "image/jpeg")
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "7").iterdir()) == ["old.png"]
    assert store.get("7/old.png") == png() and not store.exists("7/new.png")


@settings(max_examples=50)
@given(st.binary(max_size=4096))
def test_local_blobs_keep_any_bytes(tmp_path_factory, content):
    store = LocalBlobs(tmp_path_factory.getbasetemp() / "any-bytes")
    store.put("1/blob.bin", content, "application/octet-stream")
    assert store.get("1/blob.bin") == content


# --- blob_store -----------------------------------------------------------------------------------

def test_blob_store_by_url(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_VAR", str(tmp_path / "var"))
    assert blob_store(None).directory == tmp_path / "var" / "blobs"
    assert blob_store("").directory == tmp_path / "var" / "blobs"
    assert blob_store(f"file://{tmp_path}/a%20b").directory == tmp_path / "a b"
    assert blob_store(f"file://localhost{tmp_path}").directory == tmp_path
    assert blob_store(str(tmp_path / "plain")).directory == tmp_path / "plain"
    assert blob_store("relative/blobs").directory == Path("relative/blobs")
    for bad in ("ftp://host/x", "file://otherhost/x", "http://127.0.0.1:9000/bucket"):
        with pytest.raises(ValueError):
            blob_store(bad)


def test_s3_urls_are_checked(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    store = blob_store("s3://dealer-files/followups/?endpoint=http://127.0.0.1:9000&region=cn-north-1")
    assert isinstance(store, S3Blobs)
    assert (store.bucket, store.name("42/a.png")) == ("dealer-files", "followups/42/a.png")
    assert blob_store("s3://dealer-files").name("42/a.png") == "42/a.png"
    for bad in ("s3:///no-bucket", "s3://b?endpoint=ftp://x", "s3://b?endpoint=http://x/path",
                "s3://b?bucket=other"):
        with pytest.raises(ValueError):
            blob_store(bad)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(ValueError, match="AWS_ACCESS_KEY_ID"):
        blob_store("s3://dealer-files")


# --- S3Blobs over HTTP ----------------------------------------------------------------------------

ACCESS_KEY, SECRET_KEY = "AKIDDEALERFLOWTEST", "dealerflow-test-secret"


class S3Server(ThreadingHTTPServer):
    """A few S3 calls (bucket location; object PUT, GET, HEAD, DELETE) on
    path-style URLs, each request's SigV4 signature checked."""
    daemon_threads = True

    def __init__(self, buckets):
        super().__init__(("127.0.0.1", 0), S3Handler)
        self.objects = {bucket: {} for bucket in buckets}
        self.requests = []


def sigv4(method, raw_path, headers, signed, scope, amz_date, payload_hash, secret):
    path, _, query = raw_path.partition("?")
    canonical_query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                                      for k, v in parse_qsl(query, keep_blank_values=True)))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    request = "\n".join([method, path, canonical_query, canonical_headers, ";".join(signed), payload_hash])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class S3Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code):
        body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
        self.reply(status, body.encode(), [("Content-Type", "application/xml")])

    def handle_one(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path))
        auth = self.headers.get("Authorization", "")
        try:
            parts = auth.removeprefix("AWS4-HMAC-SHA256 ").split(",")
            fields = dict(part.strip().split("=", 1) for part in parts)
            access_key, scope = fields["Credential"].split("/", 1)
            signed = fields["SignedHeaders"].split(";")
        except (KeyError, ValueError):
            return self.error(403, "AccessDenied")
        headers = {name.lower(): value for name, value in self.headers.items()}
        payload_hash = headers.get("x-amz-content-sha256", "")
        if access_key != ACCESS_KEY or not hmac.compare_digest(fields["Signature"], sigv4(
                self.command, self.path, headers, signed, scope, headers.get("x-amz-date", ""),
                payload_hash, SECRET_KEY)):
            return self.error(403, "SignatureDoesNotMatch")
        if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
            return self.error(400, "XAmzContentSHA256Mismatch")
        path, _, query = self.path.partition("?")
        bucket, _, name = unquote(path).lstrip("/").partition("/")
        if bucket not in self.server.objects:
            return self.error(404, "NoSuchBucket")
        objects = self.server.objects[bucket]
        if not name and self.command == "GET" and query == "location=":
            return self.reply(200, b'<?xml version="1.0"?><LocationConstraint '
                              b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>',
                              [("Content-Type", "application/xml")])
        if self.command == "PUT":
            objects[name] = (body, self.headers.get("Content-Type", "binary/octet-stream"))
            return self.reply(200, headers=[("ETag", f'"{hashlib.md5(body).hexdigest()}"')])
        if self.command == "DELETE":
            objects.pop(name, None)
            return self.reply(204)
        if name not in objects:
            return self.error(404, "NoSuchKey")
        content, media_type = objects[name]
        self.reply(200, content, [("Content-Type", media_type),
                                  ("ETag", f'"{hashlib.md5(content).hexdigest()}"'),
                                  ("Last-Modified", email.utils.formatdate(usegmt=True))])

    do_GET = do_PUT = do_HEAD = do_DELETE = handle_one


@pytest.fixture
def s3(monkeypatch):
    server = S3Server(["dealer-files"])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    for name in ("AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def s3_url(server, path="dealer-files/followups", region="&region=us-east-1"):
    return f"s3://{path}?endpoint=http://127.0.0.1:{server.server_address[1]}{region}"


def test_s3_blobs_round_trip_over_http(s3):
    store = blob_store(s3_url(s3))
    key = "42/3f1c2d4e.m4a"
    assert not store.exists(key)
    store.put(key, M4A, "audio/mp4")
    assert s3.objects["dealer-files"]["followups/42/3f1c2d4e.m4a"] == (M4A, "audio/mp4")
    assert store.exists(key) and store.get(key) == M4A
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
    with pytest.raises(ValueError, match="refused blob key"):
        store.put("../other-prefix/x.png", png(), "image/png")
    assert {method for method, _ in s3.requests} == {"PUT", "GET", "HEAD", "DELETE"}


def test_s3_blobs_put_an_attachment_in_one_request(s3):
    store = blob_store(s3_url(s3))
    recording = wav_of_size(AUDIO_LIMIT)
    store.put("9/long-call.wav", recording, "audio/wav")
    assert s3.requests == [("PUT", "/dealer-files/followups/9/long-call.wav")]
    assert store.get("9/long-call.wav") == recording


def test_s3_blobs_ask_the_bucket_its_region_when_none_is_given(s3):
    store = blob_store(s3_url(s3, "dealer-files", region=""))
    store.put("1/a.png", png(), "image/png")
    assert ("GET", "/dealer-files?location=") in s3.requests
    assert s3.objects["dealer-files"]["1/a.png"] == (png(), "image/png")


def test_s3_blobs_sign_with_the_environments_credentials(s3, monkeypatch):
    store = blob_store(s3_url(s3))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(S3Error) as refused:
        store.put("1/a.png", png(), "image/png")
    assert refused.value.code == "SignatureDoesNotMatch"
    assert s3.objects["dealer-files"] == {}


def test_s3_blobs_report_a_missing_bucket(s3):
    store = blob_store(s3_url(s3, "no-such-bucket"))
    with pytest.raises(S3Error) as refused:
        store.put("1/a.png", png(), "image/png")
    assert refused.value.code == "NoSuchBucket"
