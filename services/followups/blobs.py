"""Attachments of follow-up records (voice notes, photos): what is accepted,
and where the bytes are kept.

``check()`` decides from the bytes, never from the name or the declared type:
the magic numbers are read by `filetype` (pure Python), and three containers
that carry either sound or pictures are looked into (an MP4 or WebM file is
audio only when it has a sound track and no video track; an Ogg file with a
Theora stream is video). Accepted, with the size limits:

- photos, at most ``PHOTO_LIMIT`` (10 MiB): JPEG, PNG (APNG too), WebP, HEIC;
- audio, at most ``AUDIO_LIMIT`` (25 MiB): MP3, M4A (MP4 audio), AAC (ADTS),
  Ogg (Opus, Vorbis), WebM audio (Chrome's MediaRecorder), WAV, AMR and AMR-WB
  (Chinese phones' call recordings);
- nothing else: no video, no documents, no empty file.

A declared type or a file name is only held against the bytes: one that names
the other kind (a photo sent as ``audio/mpeg`` or as ``x.mp3``, a recording
sent as ``image/jpeg``) is refused, since a client that mislabels a file will
also show it wrongly. Within a kind the bytes win quietly: a PNG named
``x.jpg`` is stored as ``image/png`` with the extension ``png`` (phones and
WeChat do this all the time). ``video/*`` and ``application/octet-stream``
name no kind: browsers call any ``.webm`` or ``.mp4`` file ``video/...``.

The stores keep bytes under keys the caller makes, ``"<lead_id>/<uuid>.<ext>"``;
a key is letters, digits, ``.``, ``_`` and ``-`` in ``/``-separated parts, none
starting with a dot, so no key can leave the store's directory (``..``,
absolute paths, backslashes and NUL are all refused). ``blob_store(url)``
picks one from ``FOLLOWUPS_BLOBS``-style URLs:

- unset or empty: ``LocalBlobs(var_dir() / "blobs")``;
- ``file:///srv/blobs`` or a plain path: ``LocalBlobs`` there;
- ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1``:
  ``S3Blobs`` (endpoint defaults to AWS, region to ``AWS_REGION`` /
  ``AWS_DEFAULT_REGION``, else the bucket's own is asked), with credentials
  from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (and
  ``AWS_SESSION_TOKEN``).
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import filetype
import urllib3

MiB = 1024 * 1024
PHOTO_LIMIT = 10 * MiB
AUDIO_LIMIT = 25 * MiB
LIMITS = {"photo": PHOTO_LIMIT, "audio": AUDIO_LIMIT}

# Sniffed media type -> (kind, stored media type, extension).
ACCEPTED = {
    "image/jpeg": ("photo", "image/jpeg", "jpg"),
    "image/png": ("photo", "image/png", "png"),
    "image/apng": ("photo", "image/png", "png"),
    "image/webp": ("photo", "image/webp", "webp"),
    "image/heic": ("photo", "image/heic", "heic"),
    "audio/mpeg": ("audio", "audio/mpeg", "mp3"),
    "audio/mp4": ("audio", "audio/mp4", "m4a"),
    "audio/aac": ("audio", "audio/aac", "aac"),
    "audio/ogg": ("audio", "audio/ogg", "ogg"),
    "audio/webm": ("audio", "audio/webm", "webm"),
    "audio/x-wav": ("audio", "audio/wav", "wav"),
    "audio/amr": ("audio", "audio/amr", "amr"),
    "audio/amr-wb": ("audio", "audio/amr-wb", "awb"),
}
ACCEPTED_NAMES = ("photos (JPEG, PNG, WebP, HEIC) and audio (MP3, M4A, AAC, Ogg/Opus, WebM audio, "
                  "WAV, AMR)")

# File name extensions that say which kind a file claims to be.
EXTENSION_KINDS = {
    **dict.fromkeys(("jpg", "jpeg", "jfif", "png", "apng", "webp", "heic", "heif", "gif", "bmp",
                     "tif", "tiff", "avif"), "photo"),
    **dict.fromkeys(("mp3", "m4a", "aac", "ogg", "oga", "opus", "weba", "wav", "amr", "awb",
                     "flac", "wma", "aiff", "mid", "midi"), "audio"),
}

_AMR_WB = b"#!AMR-WB\n"
_EBML_CLUSTER = b"\x1f\x43\xb6\x75"
_EBML_CODEC_ID = re.compile(rb"\x86[\x81-\xbf]([AVS])_")   # CodecID: "A_OPUS", "V_VP8", "S_TEXT/..."
_MP4_HANDLER = re.compile(rb"hdlr.{8}(vide|soun)", re.DOTALL)
_HEAD = 64 * 1024


class BlobError(ValueError):
    """An attachment refused: empty, too large, or not an accepted type.
    ``field`` names the input at fault; ``reason`` is ``"empty"``,
    ``"too_large"`` (HTTP 413) or ``"type"`` (HTTP 415)."""

    def __init__(self, message: str, field: str = "file", *, reason: str = "type"):
        super().__init__(message)
        self.message, self.field, self.reason = message, field, reason


class BlobNotFound(LookupError):
    """No blob under this key."""


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB // 10 else f"{n:,} bytes"


def _sniff(content: bytes) -> str | None:
    """The media type the bytes are, as far as we tell them apart."""
    if content.startswith(_AMR_WB):
        return "audio/amr-wb"
    kind = filetype.guess(content)
    mime = kind.mime if kind else None
    if mime in ("video/webm", "video/x-matroska"):
        head = content[:_HEAD]
        cluster = head.find(_EBML_CLUSTER)
        codecs = {m.group(1) for m in _EBML_CODEC_ID.finditer(head if cluster < 0 else head[:cluster])}
        if mime == "video/webm" and b"A" in codecs and b"V" not in codecs:
            return "audio/webm"
    elif mime in ("audio/mp4", "video/mp4"):
        handlers = {m.group(1) for m in _MP4_HANDLER.finditer(content)}
        if b"vide" in handlers:
            return "video/mp4"
        if b"soun" in handlers or mime == "audio/mp4":
            return "audio/mp4"
    elif mime == "audio/ogg" and b"\x80theora" in content[:_HEAD]:
        return "video/ogg"
    return mime


def _declared_kind(declared_type: str | None, filename: str) -> tuple[str, str] | None:
    """(kind, what said so) when the declared type or the name claims one."""
    media = (declared_type or "").split(";")[0].strip().lower()
    if media.startswith("image/"):
        return "photo", f"declared as {media}"
    if media.startswith("audio/"):
        return "audio", f"declared as {media}"
    extension = PurePosixPath((filename or "").replace("\\", "/")).suffix.lstrip(".").lower()
    if extension in EXTENSION_KINDS:
        return EXTENSION_KINDS[extension], f"named .{extension}"
    return None


def check(content: bytes, filename: str, declared_type: str | None) -> tuple[str, str]:
    """The media type and extension to store ``content`` under, or BlobError.

    The bytes decide the type; ``filename`` and ``declared_type`` may only
    agree with them (see the module's doc)."""
    if not content:
        raise BlobError("the file is empty", reason="empty")
    largest = max(LIMITS.values())
    if len(content) > largest:
        raise BlobError(f"the file is {_size(len(content))}; audio may be at most {_size(AUDIO_LIMIT)} "
                        f"and photos at most {_size(PHOTO_LIMIT)}", reason="too_large")
    sniffed = _sniff(content)
    if sniffed not in ACCEPTED:
        what = f"its content is {sniffed}" if sniffed else "its content is not a type we recognise"
        if sniffed and sniffed.startswith("video/"):
            what += " (video is not accepted)"
        raise BlobError(f"only {ACCEPTED_NAMES} are accepted; {what}")
    kind, media_type, extension = ACCEPTED[sniffed]
    claimed = _declared_kind(declared_type, filename)
    if claimed and claimed[0] != kind:
        raise BlobError(f"the file is {claimed[1]} ({claimed[0]}) but its content is {media_type} "
                        f"({kind}); send it as what it is")
    if len(content) > LIMITS[kind]:
        label = "photos" if kind == "photo" else "audio"
        raise BlobError(f"{label} may be at most {_size(LIMITS[kind])}; this file is "
                        f"{_size(len(content))} ({len(content):,} bytes)", reason="too_large")
    return media_type, extension


# --- keys ---------------------------------------------------------------------------------------

_KEY_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
KEY_MAX = 512


def check_key(key: str) -> str:
    """The key if it is safe as a relative path everywhere, else ValueError:
    ``/``-separated parts of letters, digits, ``.``, ``_``, ``-``, none
    starting with ``.`` (so no ``..``, no hidden or temporary file names)."""
    if not isinstance(key, str) or not key or len(key) > KEY_MAX or not all(
            _KEY_PART.fullmatch(part) for part in key.split("/")):
        raise ValueError(f"refused blob key {key!r}: expected parts like '<lead_id>/<uuid>.<ext>'")
    return key


# --- stores -------------------------------------------------------------------------------------

class BlobStore(Protocol):
    def put(self, key: str, content: bytes, media_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


class LocalBlobs:
    """Blobs as files under ``directory``; a put is a temporary file in the
    same directory, synced, then renamed over the key (``os.replace``), so a
    reader or a crash sees the old bytes or the new ones, never half a file."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def __repr__(self):
        return f"LocalBlobs({str(self.directory)!r})"

    def path(self, key: str) -> Path:
        return self.directory.joinpath(*check_key(key).split("/"))

    def put(self, key: str, content: bytes, media_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class S3Blobs:
    """Blobs in an S3-compatible bucket (AWS, MinIO, Ceph, OSS/COS in S3
    mode), by URL: ``s3://bucket/prefix?endpoint=http://host:9000&region=r``.
    Keys go under ``prefix/``; the bucket must exist. Credentials come from
    the environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN``), read on each request."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        from minio import Minio
        from minio.credentials import EnvAWSProvider

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname:
            raise ValueError(f"an S3 blob store URL is s3://bucket/prefix?endpoint=...; got {url!r}")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise ValueError(f"unknown S3 blob store options {sorted(unknown)} in {url!r}")
        endpoint = urlsplit(query.get("endpoint") or "https://s3.amazonaws.com")
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc or endpoint.path.strip("/"):
            raise ValueError(f"endpoint= must be http(s)://host[:port]; got {query.get('endpoint')!r}")
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_ACCESS_KEY")):
            raise ValueError("S3 blob store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        self.bucket = parts.netloc
        self.prefix = unquote(parts.path).strip("/")
        region = query.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout), maxsize=10,
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]))
        self.client = Minio(endpoint.netloc, secure=endpoint.scheme == "https", region=region,
                            credentials=EnvAWSProvider(), http_client=http)

    def __repr__(self):
        return f"S3Blobs(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, content: bytes, media_type: str) -> None:
        # One PUT, never a multipart upload (minio's choice above 5 MiB): an
        # attachment is at most 25 MiB, and a single PUT lands whole or not at all.
        self.client.put_object(self.bucket, self.name(key), io.BytesIO(content), len(content),
                               content_type=media_type, part_size=max(len(content), 5 * MiB))

    def get(self, key: str) -> bytes:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, self.name(key))
        except S3Error as error:
            if error.code == "NoSuchKey":
                raise BlobNotFound(key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, self.name(key))

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, self.name(key))
        except S3Error as error:
            if error.code in ("NoSuchKey", "NotFound"):
                return False
            raise
        return True


def blob_store(url: str | None = None) -> BlobStore:
    """The store a ``FOLLOWUPS_BLOBS``-style URL names (see the module's doc)."""
    if not url:
        from dealerflow.config import var_dir

        return LocalBlobs(var_dir() / "blobs")
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return S3Blobs(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a file blob store URL is file:///path; got {url!r}")
        return LocalBlobs(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:   # (a one-letter "scheme" is a Windows drive)
        raise ValueError(f"a blob store is file:///path, s3://bucket/prefix or a path; got {url!r}")
    return LocalBlobs(url)
