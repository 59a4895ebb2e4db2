"""How customers are reached and found, read one way everywhere in the
service, so that one person is one customer.

- A phone is read with ``dealerflow.phones`` in the customer's country (CN
  unless told): only a number some numbering plan really uses is kept (a
  possible-looking typo is refused, not merged with someone). Its extension
  is part of it: ``021-5888 8888 转 301`` and ``转 302`` are two people.
- An email is NFKC, lower case, without ``mailto:``.
- A name is found by its start, or by its initials: pinyin for Chinese
  (王磊: ``wl``), the words' first letters otherwise (John Smith: ``js``).
"""
import functools
import re
from dataclasses import dataclass

import phonenumbers
from pypinyin import Style, lazy_pinyin

from dealerflow.phones import is_placeholder, plain, read_phone

DEFAULT_REGION = "CN"
# A Chinese mobile as most are typed: 11 digits that phonenumbers would take
# as they are (none starts with a carrier code it strips, 11xx, 12xx or 179xx)
_PLAIN_MOBILE = re.compile(r"1(?:[3-689]\d|7[0-8])\d{8}")


@dataclass(frozen=True)
class Phone:
    e164: str
    extension: str = ""

    @property
    def national(self) -> str:
        """The digits as dialled at home (13800138000, 2158888888). A Chinese
        number's are those after +86 (no valid one starts with the trunk 0):
        an import reads a hundred thousand without parsing each again."""
        if self.e164.startswith("+86"):
            return self.e164[3:]
        return str(phonenumbers.parse(self.e164).national_number)

    @property
    def reversed(self) -> str:
        """The E.164 digits backwards: a search for the number's end is a prefix search."""
        return self.e164[:0:-1]

    def dump(self) -> dict:
        return {"e164": self.e164, "extension": self.extension or None}


def read(raw: str | None, region: str = DEFAULT_REGION) -> Phone | None:
    """The phone as typed, or None when it is no real number. A plain
    Chinese mobile, or one in E.164 (a lead's, as the gateway read it), is
    not parsed (an import reads a hundred thousand; parsing was a third of
    reading a lead's contacts): the number phonenumbers would parse it into
    is checked as it would be."""
    region = region or DEFAULT_REGION
    national = raw[3:] if raw and raw.startswith("+86") else raw if region == "CN" else None
    if national and _PLAIN_MOBILE.fullmatch(national):
        valid = not is_placeholder(national) and phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=86, national_number=int(national)))
        return Phone("+86" + national) if valid else None
    found = read_phone(raw, region, valid_only=True)
    return Phone(found["e164"], found.get("extension", "")) if found else None


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 of a phone as people type it (its extension left out); None
    when it is no real number."""
    phone = read(raw, region)
    return phone.e164 if phone else None


def normalize_email(raw: str | None) -> str | None:
    if not raw:
        return None
    email = plain(raw).lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    return email if len(email) <= 254 and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) else None


def name_key(name: str | None) -> str | None:
    """The name folded for a prefix search: NFKC, lower case, single spaces."""
    if not name or not name.strip():
        return None
    return " ".join(plain(name).lower().split())[:200]


@functools.lru_cache(maxsize=8192)
def initials(name: str | None) -> str | None:
    """王磊 -> ``wl``; John Smith -> ``js``; 李 Lily -> ``ll``. Remembered for
    the names met most (an import's hundred thousand rows repeat many)."""
    key = name_key(name)
    if key is None:
        return None
    letters = []
    for part in lazy_pinyin(key, style=Style.FIRST_LETTER, errors=lambda text: text.split()):
        part = part.strip()
        if part and part[0].isalnum():
            letters.append(part[0])
    return "".join(letters)[:64] or None
