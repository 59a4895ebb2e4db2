"""What a notification says: the templates (``templates.yaml``, data) and
the renderer. Pure: no database, no nameko.

``render(kind, language, values, zone)`` gives a title and a body. The
values are what an event knows, as plain Python:

- text and numbers are inserted as they are (one line: line breaks in a
  value become spaces, so a customer's comment cannot forge a line);
- ``None`` or ``""``: the event does not have it; the value is empty and a
  template line made only of empty values is left out;
- an aware ``datetime`` is shown in the store's time zone (``zone``);
- ``Word(table, key)`` is a phrase of ``templates.yaml``'s ``words`` in the
  recipient's language (the key itself when the table lacks it), whose own
  placeholders are filled from the same values (a key the table lacks
  shows as itself, or as ``Word.otherwise``).

A placeholder no value names (a template's typo) shows as ``—`` and never
fails. Nothing is passed to ``str.format``: ``{name}`` with a plain name is
the only syntax, and ``{0}`` or ``{a.b}`` are just characters.
"""
import functools
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from dealerflow.notification_contracts import KINDS, LANGUAGES
from services.notifications.models import TITLE_LENGTH

# the staff's kinds, and what a customer is sent (a test drive's confirmation with its invitation)
MESSAGES = (*KINDS, "test_drive_invitation")

DEFAULT_PATH = Path(__file__).with_name("templates.yaml")
ENV_VAR = "NOTIFICATIONS_TEMPLATES"
MISSING = "—"
DEFAULT_LANGUAGE = "zh"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class TemplateError(ValueError):
    """A templates file the service cannot use; the message names the file and the entry."""


@dataclass(frozen=True)
class Word:
    """A phrase of the templates' ``words``: ``Word("changes", "won")``;
    ``otherwise`` is what shows when the table lacks the key (None: the key,
    right for codes such as a loss reason; "" for an optional detail)."""
    table: str
    key: str | None
    otherwise: str | None = None


@dataclass(frozen=True)
class Library:
    messages: dict  # kind -> language -> {"title", "body"}
    words: dict     # table -> key -> language -> text


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut: a
    title built from a platform's fields must fit its column."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def placeholders_of(text: str) -> list[str]:
    """The placeholder names a text uses."""
    return _PLACEHOLDER.findall(text)


# -- loading --------------------------------------------------------------------------

def check(data, source: str) -> Library:
    """The file's content as a ``Library``, or ``TemplateError`` saying what is wrong where."""
    if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
        raise TemplateError(f"{source}: a mapping with `messages` (and `words`) is needed")
    words = data.get("words") or {}
    for kind in MESSAGES:
        for language in LANGUAGES:
            entry = (data["messages"].get(kind) or {}).get(language)
            if not isinstance(entry, dict) or not all(isinstance(entry.get(part), str) for part in ("title", "body")):
                raise TemplateError(f"{source}: messages.{kind}.{language} needs a title and a body")
    if not isinstance(words, dict) or not all(
            isinstance(table, dict) and all(isinstance(texts, dict) and all(isinstance(text, str)
                                                                            for text in texts.values())
                                            for texts in table.values())
            for table in words.values()):
        raise TemplateError(f"{source}: words.<table>.<key>.<language> must be text")
    return Library(messages=data["messages"], words=words)


def load(path: str | Path | None = None) -> Library:
    """The templates of ``path``, else of ``NOTIFICATIONS_TEMPLATES``, else the default file."""
    path = Path(path or os.environ.get(ENV_VAR) or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: {exc}") from exc
    return check(data, str(path))


@functools.cache
def library() -> Library:
    """The templates, loaded once per process (the service checks them when it starts)."""
    return load()


# -- rendering ------------------------------------------------------------------------

def language_of(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def word(lib: Library, table: str, key: str | None, language: str, otherwise: str | None = None) -> str:
    """The phrase in the language (else Chinese), else ``otherwise``, else the key itself."""
    texts = (lib.words.get(table) or {}).get(key) if key is not None else None
    fallback = (key or "") if otherwise is None else otherwise
    if not texts:
        return fallback
    return texts.get(language, texts.get(DEFAULT_LANGUAGE, fallback))


def show_time(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the store's people read it: ``11-30 10:15``."""
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def plain(value, lib: Library, language: str, values: dict, zone: ZoneInfo, depth: int = 0) -> str:
    """One value as the text that replaces its placeholder."""
    if value is None:
        return ""
    if isinstance(value, Word):
        text = word(lib, value.table, value.key, language, value.otherwise)
        return fill(text, lib, language, values, zone, depth + 1) if depth < 2 else text
    if isinstance(value, datetime):
        return show_time(value, zone)
    return _BREAKS.sub(" ", str(value)).strip()


def fill(text: str, lib: Library, language: str, values: dict, zone: ZoneInfo, depth: int = 0) -> str:
    """The text with each placeholder replaced; a line whose placeholders
    were all empty is left out."""
    lines = []
    for line in text.split("\n"):
        seen = []

        def replace(match):
            name = match.group(1)
            if name not in values:
                seen.append(MISSING)
                return MISSING
            seen.append(plain(values[name], lib, language, values, zone, depth))
            return seen[-1]

        filled = _PLACEHOLDER.sub(replace, line)
        if not seen or any(seen):
            lines.append(filled.rstrip())
    return "\n".join(lines).strip()


def phrase(table: str, key: str, language: str | None, values: dict, zone: ZoneInfo,
           lib: Library | None = None) -> str:
    """One of the ``words``, its placeholders filled (a message of no kind, such as a channel's test)."""
    lib = lib or library()
    language = language_of(language)
    return fill(word(lib, table, key, language), lib, language, values, zone)


def render(kind: str, language: str | None, values: dict, zone: ZoneInfo,
           lib: Library | None = None) -> tuple[str, str]:
    """The title (one line that fits its column) and the body of a message
    of ``kind`` in ``language`` (Chinese if it is not one we have)."""
    lib = lib or library()
    language = language_of(language)
    texts = lib.messages[kind][language]
    title = " ".join(fill(texts["title"], lib, language, values, zone).split())
    return fit(title or kind, TITLE_LENGTH), fill(texts["body"], lib, language, values, zone)
