"""services.customers.contacts: phones to E.164, emails to one spelling."""
import pytest

from services.customers.contacts import normalize_email, normalize_phone


@pytest.mark.parametrize("raw, expected", [
    ("13800138000", "+8613800138000"),                    # bare 11-digit mobile defaults to +86
    ("+86 138-0013-8000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("  13800138000  ", "+8613800138000"),
    ("+8613800138000", "+8613800138000"),
    ("0086 138 0013 8000", "+8613800138000"),
    ("(010) 6552-9988 转 8012", "+861065529988"),          # the extension is dropped
    ("010-65529988分机8012", "+861065529988"),
    ("+49 171 1234567", "+491711234567"),                  # German mobile stays German
    ("+49 30 1234568", "+49301234568"),
])
def test_normalize_phone_gives_e164(raw, expected):
    assert normalize_phone(raw) == expected


def test_same_mobile_typed_three_ways_is_one_number():
    typed = ["13800138000", "+86 138-0013-8000", "138 0013 8000"]
    assert {normalize_phone(raw) for raw in typed} == {"+8613800138000"}


@pytest.mark.parametrize("raw", ["not a phone", "abc-def", "12", "123456789012345678"])
def test_normalize_phone_refuses_garbage(raw):
    assert normalize_phone(raw) is None


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_normalize_phone_of_nothing_is_none(raw):
    assert normalize_phone(raw) is None


@pytest.mark.parametrize("raw, expected", [
    ("wl@example.com", "wl@example.com"),
    ("WL@Example.COM", "wl@example.com"),
    ("  wl@example.com \n", "wl@example.com"),
    ("mailto:wl@example.com", "wl@example.com"),
    ("MAILTO:WL@EXAMPLE.COM", "wl@example.com"),
])
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "wl", "wl@example", "wl@@example.com",
                                 "w l@example.com", "@example.com", "mailto:"])
def test_normalize_email_refuses_what_is_not_an_address(raw):
    assert normalize_email(raw) is None
