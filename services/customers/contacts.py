"""Normalising how customers can be reached, so that one person is one customer."""
import re

import phonenumbers

EXTENSION = re.compile(r"\s*(转|分机|轉)\s*")


def normalize_phone(raw: str | None, region: str = "CN") -> str | None:
    """E.164 for a phone as people type it; a bare 11-digit number is Chinese
    (+86). ``None`` when it cannot be a phone number at all."""
    if not raw or not raw.strip():
        return None
    text = EXTENSION.sub(" ext. ", raw.strip())
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"1\d{10}", digits) and not text.startswith("+"):
        text = "+86" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    if not raw:
        return None
    email = raw.strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    return email if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) else None
