"""services.customers.contacts: phones to E.164, emails to one spelling."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.phones import read_phone
from services.customers.contacts import Phone, initials, normalize_email, normalize_phone, read


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


# -- a customer's phone: E.164 with its extension, real numbers only -----------


@pytest.mark.parametrize("typed", ["021-5888 8888 转 301", "(021) 58888888 分机301", "+86 21 5888 8888 ext. 301",
                                   "０２１－５８８８ ８８８８ 转 ３０１", "\u200e021-5888 8888 转 301"])
def test_an_extension_is_part_of_the_phone(typed):
    assert read(typed) == Phone("+862158888888", "301")


def test_two_extensions_of_one_switchboard_are_two_phones():
    assert read("021-5888 8888 转 301") != read("021-5888 8888 转 302")


@pytest.mark.parametrize("typed", ["+86 100 0000 0000", "12345", "138001380", "+1 555 0100"])
def test_a_number_that_cannot_be_real_is_refused(typed):
    assert read(typed) is None


@pytest.mark.parametrize("name, expected", [("王磊", "wl"), ("欧阳娜娜", "oynn"), ("John Smith", "js"),
                                            ("李 Lily", "ll"), ("  ", None), (None, None)])
def test_initials(name, expected):
    assert initials(name) == expected


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(mobiles, st.sampled_from(["{}", "+86 {}", "86{}", "0086 {}", "{a} {b} {c}", "{a}-{b}-{c}", "+86 ({a}) {b} {c}",
                                 "\u200e{}", "＋８６{fw}", " {} \u3000"]))
def test_a_mobile_typed_any_common_way_is_one_phone(mobile, shape):
    typed = shape.format(mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:],
                         fw=mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    plain = read(mobile)
    assert read(typed) == plain
    if plain is not None:
        assert plain.e164 == "+86" + mobile and plain.national == mobile
        assert plain.reversed == ("86" + mobile)[::-1]


@given(st.text(max_size=60))
def test_any_text_reads_as_a_phone_or_none(text):
    phone = read(text)
    assert phone is None or (phone.e164.startswith("+") and phone.e164[1:].isdigit())


@pytest.mark.parametrize("typed", ["13800138000", "021-5888 8888", "010 6552 9988", "0571 8888 6666", "0755-2345 6789",
                                   "+49 171 1234567", "+44 20 7946 0958", "+1 212 555 0100", "+39 06 6982 1234"])
def test_the_national_number_is_what_phonenumbers_reads(typed):
    import phonenumbers
    phone = read(typed)
    assert phone.national == str(phonenumbers.parse(phone.e164).national_number)
    assert phone.reversed == phone.e164[:0:-1]


def parsed(raw: str, region: str = "CN") -> Phone | None:
    """The phone as phonenumbers parses it, the way every number not a plain Chinese mobile is read."""
    found = read_phone(raw, region, valid_only=True)
    return Phone(found["e164"], found.get("extension", "")) if found else None


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_a_plain_mobile_read_without_parsing_is_what_phonenumbers_makes_of_it(raw):
    assert read(raw) == parsed(raw)


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True), st.sampled_from(["CN", "DE"]))
def test_a_mobile_in_e164_read_without_parsing_is_what_phonenumbers_makes_of_it(raw, region):
    assert read("+86" + raw, region) == parsed("+86" + raw, region)


@pytest.mark.parametrize("raw", ["13800138000", "17012345678", "17912345678", "11912345678", "12345678901",
                                 "13131313131", "19999999999", "14012345678", "16612345678"])
def test_plain_mobiles_placeholders_and_carrier_codes_as_phonenumbers_reads_them(raw):
    assert read(raw) == parsed(raw)
    assert read(raw, "DE") == parsed(raw, "DE")            # elsewhere, always parsed
    assert read("+86" + raw, "DE") == parsed("+86" + raw, "DE")
