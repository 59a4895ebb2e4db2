"""services.gateway.adf searched with generated bodies (bounded, and with a
fixed seed in CI, by the hypothesis profile in tests/conftest.py).

The gateway's promise to a platform: any body gets leads or an AdfError (a
400), never another exception (a 500); what a sender wrote comes back; a
prospect is recognised by its raw text wherever it stands; a name reads as a
person writes it; a phone, however written, is one E.164 number in the right
country, and a placeholder is never the lead's phone.
"""
import json

from hypothesis import given
from hypothesis import strategies as st

from dealerflow.phones import is_placeholder
from services.gateway.adf import AdfError, parse_adf
from services.gateway.intake import normalise_phones

SYNTAX = ["<", ">", "&", ";", "?", "!", "[", "]", "-", "/", "=", '"', "'", " ", "\n", "\r", "#", "x",
          "<?xml ", "<?adf ", "?>", "<![CDATA[", "]]>", "<!--", "-->", "<!DOCTYPE ", "&amp;", "&#65;",
          "&mdash;", "<adf>", "</adf>", "<prospect>", "</prospect>", '<prospect status="new">',
          "<customer>", "</customer>", "<comments>", "</comments>", "<requestdate>", "</requestdate>",
          "2024-06-11T09:00:00", "<name>", "</name>", "<phone>", "</phone>", "A", "b", "é", "王", "\U0001F697",
          '<?xml version="1.0" encoding="', '"?>', "utf-8", "utf-16", "rot13", "cp500", "latin-1", "nope"]

syntax_text = st.lists(st.sampled_from(SYNTAX), max_size=60).map("".join)
in_a_prospect = syntax_text.map(lambda text: f"<adf><prospect>{text}</prospect></adf>")


def leads_or_adf_error(body: bytes) -> None:
    """parse_adf gives leads the gateway can publish, or AdfError."""
    try:
        leads = parse_adf(body)
    except AdfError:
        return
    assert isinstance(leads, list) and leads
    assert all(isinstance(lead, dict) and isinstance(lead["raw"], str) for lead in leads)
    json.dumps(leads)


@given(st.binary(max_size=2000))
def test_any_bytes_give_leads_or_adf_error(body):
    leads_or_adf_error(body)


@given(st.one_of(syntax_text, in_a_prospect), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_xml_like_text_gives_leads_or_adf_error(text, encoding):
    leads_or_adf_error(text.encode(encoding, "replace"))


# Text as senders write it: any printable character, with bare & and < in it
# (each followed by what starts no reference and no markup), but never "]]>",
# which no repair can tell from the end of a CDATA section.
plain = st.text(st.characters(exclude_characters="&<").filter(str.isprintable), max_size=30)
bare = st.sampled_from(["& ", "< ", "&&", "<< ", "<3", "R&D", "&#", "&;", " & ", " < "])
sender_text = (st.lists(st.one_of(plain, bare), max_size=8).map("".join)
               .filter(lambda text: "]]>" not in text and not text.endswith(("&", "<"))))


def prospect(name: str, phone: str, comments: str, external_id: str = "E-1") -> str:
    return (f'<prospect><id source="S">{external_id}</id><customer><contact><name part="full">{name}</name>'
            f"<phone>{phone}</phone></contact><comments>{comments}</comments></customer></prospect>")


prolog = st.sampled_from(["", '<?xml version="1.0"?>\n', '<?adf version="1.0"?><?xml version="1.0"?>'])


@given(sender_text, sender_text, sender_text, prolog)
def test_what_the_sender_wrote_comes_back(name, phone, comments, prolog):
    [lead] = parse_adf(f"{prolog}<adf>{prospect(name, phone, comments)}</adf>".encode())
    customer = lead.get("customer", {})
    assert customer.get("name") == (" ".join(name.split()) or None)
    assert [p["number"] for p in customer.get("phones", [])] == ([phone.strip()] if phone.strip() else [])
    assert customer.get("phone") == (phone.strip() if phone.strip() and not is_placeholder(phone) else None)
    assert lead.get("comments") == (comments.strip() or None)


separator = st.sampled_from(["", " ", "\n", "\r\n", "\t\t", "\n  <!-- a <prospect> -->\n"])


@given(sender_text, sender_text, st.lists(st.tuples(sender_text, separator), max_size=5), st.data())
def test_a_prospect_has_the_same_raw_wherever_it_stands(name, comments, others, data):
    own = prospect(name, "1", comments)
    [alone] = parse_adf(f"<adf>{own}</adf>".encode())
    place = data.draw(st.integers(0, len(others)), label="place")
    parts = [prospect("Other", "2", text, external_id=f"O-{i}") + gap for i, (text, gap) in enumerate(others)]
    parts.insert(place, own + data.draw(separator, label="after"))
    leads = parse_adf(f"<adf>{data.draw(separator, label='before')}{''.join(parts)}</adf>".encode())
    assert leads[place]["raw"] == alone["raw"]


# --- names ------------------------------------------------------------------------

space = st.sampled_from([" ", "  ", "\n", "\t", "\r\n  ", "\u3000"])
word = st.text(st.characters(categories=["Lu", "Ll"], max_codepoint=0x24F), min_size=1, max_size=8)
latin_part = st.lists(word, min_size=1, max_size=3).flatmap(
    lambda words: st.lists(space, min_size=len(words) + 1, max_size=len(words) + 1).map(
        lambda gaps: gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:]))))
ORDER = ("first", "middle", "last")


def named(elements: str) -> str | None:
    [lead] = parse_adf(f"<adf><prospect><customer><contact>{elements}<email>a@b.c</email>"
                       f"</contact></customer></prospect></adf>".encode())
    return lead["customer"].get("name")


@given(st.fixed_dictionaries({}, optional={part: latin_part for part in ORDER}).filter(bool),
       st.randoms(use_true_random=False), st.booleans())
def test_name_parts_read_in_writing_order_whatever_their_order(parts, random, nested):
    order = list(parts)
    random.shuffle(order)
    if nested:
        elements = '<name part="full">' + "".join(f"<{p}>{parts[p]}</{p}>" for p in order) + "</name>"
    else:
        elements = "".join(f'<name part="{p}">{parts[p]}</name>' for p in order)
    assert named(elements) == " ".join(" ".join(parts[p].split()) for p in ORDER if p in parts)


@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=2),
       st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=3))
def test_a_chinese_name_is_family_name_first_without_spaces(family, given_name):
    assert named(f'<name part="first">{given_name}</name><name part="last"> {family} </name>') == family + given_name


@given(st.text(st.characters(categories=["L"]), min_size=1, max_size=1))
def test_a_one_letter_name_is_a_name(letter):
    assert named(f'<name part="full">{letter}</name>') == letter


# --- phones -----------------------------------------------------------------------

def normalised(phones: str, store_country: str = "CN", country: str | None = None) -> dict:
    address = f"<address><country>{country}</country></address>" if country else ""
    [lead] = parse_adf(f"<adf><prospect><customer><contact><name>A</name><email>a@b.c</email>{phones}"
                       f"{address}</contact></customer></prospect></adf>".encode())
    normalise_phones(lead, store_country, "adf")
    return lead


nanp = st.tuples(st.integers(2, 9), st.integers(0, 99), st.integers(2, 9), st.integers(0, 99),
                 st.integers(0, 9999)).map(lambda t: (f"{t[0]}{t[1]:02d}", f"{t[2]}{t[3]:02d}", f"{t[4]:04d}"))
NANP_STYLES = ["{a}-{e}-{l}", "({a}) {e}-{l}", "({a})-{e}-{l}", "{a}.{e}.{l}", "1-{a}-{e}-{l}",
               "1 ({a}) {e}-{l}", "+1 {a} {e} {l}", "+1{a}{e}{l}"]


@given(nanp, st.sampled_from(NANP_STYLES), st.sampled_from(["CN", "US", "AU", "AR"]))
def test_a_north_american_number_written_the_north_american_way_is_plus_1_whatever_the_store(
        number, style, store_country):
    area, exchange, line = number
    written = style.format(a=area, e=exchange, l=line)
    lead = normalised(f'<phone type="cellphone">{written}</phone>', store_country)
    if is_placeholder(written):
        assert lead["phone_e164"] is None
    else:
        assert lead["customer"]["phone"] == written
        assert lead["phone_e164"] == f"+1{area}{exchange}{line}"


@given(nanp, st.sampled_from(["US", "CA", "usa", "Canada"]), st.sampled_from(["CN", "AU"]))
def test_the_address_country_reads_a_bare_number_before_the_store_does(number, country, store_country):
    area, exchange, line = number
    lead = normalised(f"<phone>{area}{exchange}{line}</phone>", store_country, country)
    if not is_placeholder(f"{area}{exchange}{line}"):
        assert lead["phone_e164"] == f"+1{area}{exchange}{line}"


china_mobile = st.tuples(st.integers(3, 9), st.integers(0, 999_999_999)).map(lambda t: f"1{t[0]}{t[1]:09d}")
CHINA_STYLES = ["{n}", "{n3} {n4} {n8}", "{n3}-{n4}-{n8}", "+86 {n}", "+86-{n3}-{n4}-{n8}", "0086 {n}"]


@given(china_mobile, st.sampled_from(CHINA_STYLES))
def test_a_chinese_mobile_however_written_is_one_number_in_a_chinese_store(number, style):
    written = style.format(n=number, n3=number[:3], n4=number[3:7], n8=number[7:])
    lead = normalised(f"<phone>{written}</phone>")
    if not is_placeholder(written):
        assert lead["phone_e164"] == f"+86{number}"


@given(nanp, st.integers(1, 99999), st.sampled_from([" x{e}", " ext. {e}", " ext{e}", " #{e}"]))
def test_an_extension_is_kept_apart_from_the_number(number, extension, style):
    area, exchange, line = number
    written = f"{area}-{exchange}-{line}" + style.format(e=extension)
    lead = normalised(f"<phone>{written}</phone>", "US")
    if not is_placeholder(written):
        assert lead["customer"]["phone"] == written
        assert lead["phone_e164"] == f"+1{area}{exchange}{line}"
        assert lead["phone_extension"] == str(extension)


placeholder = st.one_of(
    st.tuples(st.sampled_from("0123456789"), st.integers(6, 12)).map(lambda t: t[0] * t[1]),
    st.tuples(st.integers(0, 9), st.integers(6, 10), st.booleans()).map(
        lambda t: "".join(str((t[0] + (i if t[2] else -i)) % 10) for i in range(t[1]))))
formatting = st.sampled_from(["{p}", "{p3}-{p4}-{r}", "({p3}) {p4} {r}", "+1 {p}"])


@given(placeholder, formatting, st.sampled_from(["cellphone", "voice", "mobile"]), st.booleans(),
       nanp.map(lambda n: "-".join(n)))
def test_a_placeholder_is_flagged_and_never_the_leads_phone(digits, style, kind, preferred, real):
    written = style.format(p=digits, p3=digits[:3], p4=digits[3:6], r=digits[6:]).strip()
    mark = ' preferredcontact="1"' if preferred else ""
    lead = normalised(f'<phone type="{kind}"{mark}>{written}</phone><phone type="fax">{real}</phone>', "US")
    first = lead["customer"]["phones"][0]
    assert first["number"] == written and first["placeholder"] is True and "e164" not in first
    assert lead["customer"].get("phone") == (None if is_placeholder(real) else real)
