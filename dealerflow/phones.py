"""Phone numbers as people type them, read into E.164: the one reading every
service shares (DESIGN: phones are stored in E.164, a bare Chinese mobile is
+86).

Text is first made plain: Unicode NFKC (full-width digits and plus become
ASCII: ``＋８６ １３８…``), with the invisible direction and zero-width marks
that copying from a chat or a spreadsheet leaves removed. An extension,
written ``转 301``, ``分机301``, ``ext. 301``, ``x301`` or ``#301``, is kept
apart: it is part of who answers (two people behind one switchboard are two
customers).
"""
import re
import unicodedata

import phonenumbers

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\ufeff\u00ad"))
_EXTENSION_WORDS = re.compile(r"\s*(?:转|分机|轉|分機)\s*")
EXTENSION = re.compile(r"\s*(?:(?:ext|extn|extension|x)\.?|#|,)\s*\d{1,10}\s*$", re.I)
_CHINA_MOBILE = re.compile(r"1[3-9]\d(?:[- ]?\d{4}){2}")  # 13800138000, 138 0013 8000
_RUNS = "01234567890123456789", "98765432109876543210"


def plain(text: str) -> str:
    """The text as NFKC, without invisible marks, stripped."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()


def phone_digits(text: str) -> str:
    """The digits of a phone as written, without its extension and, when it
    is written with one (``+1 ...``), without its country code."""
    text = EXTENSION.sub("", _EXTENSION_WORDS.sub(" ext. ", plain(text)))
    digits = re.sub(r"\D", "", text)
    if text.lstrip().startswith("+"):
        for length in (1, 2, 3):  # country codes are prefix-free: the first one found is it
            if digits[:length] and int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return digits[length:]
    return digits


def is_placeholder(text: str) -> bool:
    """An obvious stand-in for a phone: one digit throughout (``9999999999``),
    a run (``1234567890``, ``987654321``) or two digits alternating
    (``1212121212``)."""
    digits = phone_digits(text)
    if not digits:
        return False
    if len(set(digits)) == 1:
        return True
    if len(digits) >= 6 and any(digits in run for run in _RUNS):
        return True
    return len(digits) >= 6 and digits == (digits[:2] * len(digits))[:len(digits)]


def read_phone(text: str | None, region: str, valid_only: bool = False) -> dict:
    """``{"e164", "extension"}`` of a phone as written, read in ``region``
    (``{}`` when it cannot be a phone number, or is a placeholder). A Chinese
    mobile written the Chinese way (``13800138000``, ``138 0013 8000``) that
    is no number of ``region`` is Chinese. ``valid_only`` refuses numbers
    that are possible in length but not in use by any plan (phonenumbers'
    ``is_valid_number``): what a customer's record keeps; a lead keeps any
    possible number."""
    if not text or not text.strip() or len(text) > 100 or is_placeholder(text):
        return {}
    written = _EXTENSION_WORDS.sub(" ext. ", plain(text))
    try:
        number = phonenumbers.parse(written, region)
        if (region != "CN" and not phonenumbers.is_valid_number(number)
                and _CHINA_MOBILE.fullmatch(EXTENSION.sub("", written))):
            number = phonenumbers.parse(written, "CN")
    except phonenumbers.NumberParseException:
        return {}
    if not (phonenumbers.is_valid_number(number) if valid_only else phonenumbers.is_possible_number(number)):
        return {}
    read = {"e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)}
    if number.extension:
        read["extension"] = number.extension
    return read
