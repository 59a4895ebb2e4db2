"""Unit tests for services.gateway.adf (no network, no services)."""

import encodings.aliases
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.gateway.adf import MAX_DEPTH, MAX_ELEMENTS, AdfError, parse_adf

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "adf"


def load(name: str) -> list[dict]:
    return parse_adf((FIXTURES / name).read_bytes())


def adf(prospect_body: str, prolog: str = '<?xml version="1.0"?>') -> bytes:
    """A minimal one-prospect document around `prospect_body`."""
    return (f"{prolog}<adf><prospect><requestdate>2024-06-11T09:00:00</requestdate>"
            f"{prospect_body}</prospect></adf>").encode("utf-8")


def customer(inner: str, comments: str = "") -> str:
    return f"<customer><contact>{inner}</contact>{comments}</customer>"


# --- fixtures ------------------------------------------------------------------

def test_full_buy_with_trade_in():
    [lead] = load("01_full_buy_with_tradein.xml")
    assert lead["source"] == "cars.example.com"
    assert lead["external_id"] == "CX-20240611-000731"
    assert lead["channel"] == "third_party"
    assert lead["received_at"] == "2024-06-11T09:42:17-05:00"
    assert lead["adf_status"] == "new"
    c = lead["customer"]
    assert c["name"] == "Maria L. Gonzalez"
    assert c["phone"] == "(312) 555-0142"
    assert c["phones"] == [{"number": "(312) 555-0142", "type": "cellphone", "preferred": True},
                           {"number": "312.555.0199", "type": "voice"}]
    assert c["email"] == "maria.gonzalez@example.net"
    assert c["city"] == "Chicago"
    assert c["address"] == {"street": "1432 W Belmont Ave, Unit 3R", "city": "Chicago",
                            "region": "IL", "postal_code": "60657", "country": "US"}
    assert lead["interest"] == {
        "brand": "Toyota", "model": "RAV4 Hybrid", "trim": "XLE Premium", "year": 2024,
        "condition": "new", "vin": "4T3RWRFV0RU000001", "stock": "T24-1187",
        "test_drive": False, "finance": True, "trade_in": True,
    }
    assert lead["trade_in"] == [{
        "interest": "trade-in", "brand": "Honda", "model": "CR-V", "year": 2016,
        "vin": "2HKRM4H70GH000002", "odometer": 81250, "odometer_units": "mi",
    }]
    assert lead["comments"] == ("Prefer text messages before 11am. Trade has minor rear bumper scuff.\n"
                                "vehicle: Customer asked about the hybrid warranty.")
    assert lead["raw"].startswith('<prospect status="new">')
    assert lead["raw"].endswith("</prospect>")


def test_minimal_full_name_phone_only():
    [lead] = load("02_minimal_fullname_phone_only.xml")
    assert "source" not in lead  # no id, no provider: the gateway names the key's platform
    assert "external_id" not in lead
    assert lead["received_at"] == "2000-03-30T15:30:20-08:00"
    assert lead["customer"] == {"name": "Jean-Luc De La Cruz Jr.", "phone": "323-223-3322",
                                "phones": [{"number": "323-223-3322", "type": "voice"}]}
    assert lead["interest"]["year"] == 2008
    assert lead["interest"]["condition"] == "new"
    assert "trade_in" not in lead
    assert "comments" not in lead


def test_quirky_not_well_formed_keeps_every_character():
    [lead] = load("04_quirky_not_wellformed.xml")
    assert lead["comments"] == "Trade & cash offer? Best price < $5,000 please"
    assert "<comments>Trade &amp; cash offer? Best price &lt; $5,000 please</comments>" in lead["raw"]
    assert lead["source"] == "Spring Sales Event"
    assert "external_id" not in lead  # the <id> is empty
    assert lead["received_at"] == "2008-06-25T08:47:50"  # naive stays naive
    assert lead["customer"]["name"] == "Johnny"  # empty last name ignored
    assert lead["customer"]["email"] == "johnny@customer.example"
    assert lead["customer"]["phone"] == "979-685-9685"  # mobile beats home and work
    assert {"number": "867-586-7584 x204", "type": "work"} in lead["customer"]["phones"]
    assert lead["interest"]["condition"] == "cpo"
    assert lead["interest"]["year"] == 1995
    assert lead["interest"]["stock"] == "12886"


def test_two_prospects_latin1():
    first, second = load("06_resend_two_prospects_latin1.xml")
    assert first["customer"]["name"] == "José"
    assert first["comments"].startswith("Señor Muñoz prefers español.")
    assert first["adf_status"] == "resend"
    assert (first["source"], first["external_id"]) == ("DealerWebsite", "WEB-55120")
    assert first["received_at"] == "2024-06-10T18:20:00+00:00"
    assert first["interest"]["finance"] is True
    assert first["interest"]["model"] == "ID.4"
    assert "José" in first["raw"] and "WEB-55121" not in first["raw"]

    assert second["customer"]["name"] == "Françoise Müller"
    assert second["customer"]["phone"] == "+49 171 1234567"
    assert second["adf_status"] == "new"
    assert second["external_id"] == "WEB-55121"
    assert second["received_at"] == "2024-06-10T18:25:00"
    assert "interest" not in second  # only a vehicle for sale
    assert second["trade_in"] == [{"interest": "sell", "brand": "Subaru", "model": "Outback",
                                   "year": 2019, "odometer": 96500, "odometer_units": "km"}]
    assert "Françoise Müller" in second["raw"]


# --- repairs and decoding ------------------------------------------------------

def test_bom_whitespace_and_pis_in_any_order():
    body = b'\xef\xbb\xbf \r\n<?ADF VERSION="1.0"?>\n<?xml version="1.0"?>' + adf(customer("<name>A B</name>"), "")
    [lead] = parse_adf(body)
    assert lead["customer"]["name"] == "A B"


def test_undeclared_latin1_falls_back_to_cp1252():
    body = adf(customer("<name>Zoë – O’Brien</name>"), "").decode().encode("cp1252")
    [lead] = parse_adf(body)
    assert lead["customer"]["name"] == "Zoë – O’Brien"


@pytest.mark.parametrize("declared", ["UTF-8", "us-ascii", "GB2312"])
def test_lying_declaration_falls_back(declared):
    prolog = f'<?xml version="1.0" encoding="{declared}"?>'
    body = adf(customer("<name>José</name>"), prolog).decode().encode("latin-1")
    [lead] = parse_adf(body)
    assert lead["customer"]["name"] == "José"


def test_html_entity_becomes_text():
    [lead] = parse_adf(adf(customer("<name>A</name>", "<comments>Fast &mdash; please &amp; thanks</comments>")))
    assert lead["comments"] == "Fast \u2014 please & thanks"


def test_incomplete_entity_like_text_is_kept():
    [lead] = parse_adf(adf(customer("<name>A</name>", "<comments>R&D &not sure &copy</comments>")))
    assert lead["comments"] == "R&D &not sure &copy"


def test_cdata_comments_keep_ampersand_and_less_than():
    comments = "<comments><![CDATA[Trade & cash <b>now</b> if price < 5000]]></comments>"
    [lead] = parse_adf(adf(customer("<name>A</name>", comments)))
    assert lead["comments"] == "Trade & cash <b>now</b> if price < 5000"


def test_vehicle_defaults_test_drive_and_email_mailto():
    body = adf('<id source=" ">X-1</id><vehicle interest="test-drive"><year>2024</year><make>BYD</make>'
               "<model>Han</model></vehicle>"
               '<customer><contact><name part="full">Full Name</name><name part="first">Wei</name>'
               '<name part="last">Wang</name><email>mailto:</email><email>MAILTO:w@example.com</email>'
               '<phone type="fax" preferredcontact="1">312 555 0101</phone>'
               '<phone preferredcontact="1">312 555 0102</phone>'
               '<phone type="home">312 555 0103</phone></contact></customer>'
               "<provider><name>Provider Co</name></provider>")
    [lead] = parse_adf(body)
    assert lead["source"] == "Provider Co"  # blank id@source falls through
    assert lead["external_id"] == "X-1"
    assert lead["customer"]["name"] == "Wei Wang"  # parts win over full
    assert lead["customer"]["email"] == "w@example.com"
    assert lead["customer"]["phone"] == "312 555 0102"  # preferred voice beats home; fax is last
    assert lead["interest"]["test_drive"] is True
    assert lead["interest"]["condition"] == "new"


def dated(date: str) -> dict:
    [lead] = parse_adf(adf(customer("<name>A</name>")).replace(b"2024-06-11T09:00:00", date.encode()))
    return lead


@pytest.mark.parametrize("date", ["soon-ish", "one", "99999999999999999999", "2024-06-11 " * 10,
                                  "2024-06-11T09:00:00+25:00"],
                         ids=["words", "one", "huge", "long", "offset-of-a-day"])
def test_an_unreadable_requestdate_is_dropped_and_the_lead_says_why(date):
    lead = dated(date)
    assert "received_at" not in lead
    assert lead["received_at_note"].endswith("could not be read; the lead counts from its submission.")
    assert f"<requestdate>{date}</requestdate>" in lead["raw"]


def ahead(**delta) -> str:
    """A time ahead of now, computed when the test runs (a suite takes minutes)."""
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


@pytest.mark.parametrize("date, why", [
    ("1989-12-31T23:59:59+00:00", "is before 1990"), ("1970-01-01", "is before 1990"),
    ("2099-01-01T00:00:00+08:00", "is in the future"), ("9999-12-31T23:59:59-14:00", "is in the future"),
    (lambda: ahead(minutes=5), "is in the future"),
    (lambda: ahead(hours=15).split("+")[0], "is in the future"),
], ids=["before-1990", "epoch", "2099", "overflows-in-utc", "five-minutes-ahead", "naive-ahead-in-every-zone"])
def test_an_implausible_requestdate_is_dropped_and_the_lead_says_why(date, why):
    date = date() if callable(date) else date
    lead = dated(date)
    assert "received_at" not in lead
    assert lead["received_at_note"] == (f"The requestdate {date!r} {why}; "
                                        "the lead counts from its submission.")
    assert f"<requestdate>{date}</requestdate>" in lead["raw"]


@pytest.mark.parametrize("date", [
    "1990-01-01T00:00:00+00:00", "1999-12-31T23:59:59", "2000-03-30T15:30:20-08:00",
    datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    (datetime.now(timezone.utc) + timedelta(hours=13)).replace(tzinfo=None, microsecond=0).isoformat(),
], ids=["1990", "1999-naive", "2000", "now", "naive-now-somewhere"])
def test_a_plausible_requestdate_is_kept_without_a_note(date):
    lead = dated(date)
    assert lead["received_at"] == date
    assert "received_at_note" not in lead


def test_no_requestdate_needs_no_note():
    [lead] = parse_adf(b"<adf><prospect><customer><contact><email>a@b.c</email></contact></customer>"
                       b"</prospect></adf>")
    assert "received_at" not in lead and "received_at_note" not in lead


def test_a_year_of_thousands_of_digits_stays_text():
    [lead] = parse_adf(adf(f"<vehicle><year>{'1' * 5000}</year></vehicle>"))
    assert lead["interest"]["year"] == "1" * 5000  # validation refuses it with a 422


# --- names ---------------------------------------------------------------------

def name_of(names: str) -> str | None:
    [lead] = parse_adf(adf(customer(names + "<email>a@example.com</email>")))
    return lead["customer"].get("name")


@pytest.mark.parametrize("names, name", [
    ('<name part="full"><first>John</first><last>Smith</last><middle>A</middle></name>', "John A Smith"),
    ('<name part="last">Smith</name><name part="first">John</name>', "John Smith"),
    ('<name part="suffix">Jr.</name><name part="last">Cruz</name><name part="first">Luc</name>', "Luc Cruz Jr."),
    ('<name part="surname">Doe</name><name part="first">Jane</name>', "Jane Doe"),
    ('<name part="first"> Mary \n  Ann </name><name part="middle"></name><name part="last">Lee</name>',
     "Mary Ann Lee"),
    ('<name part="full">  Jean-Luc \t De  La Cruz  </name>', "Jean-Luc De La Cruz"),
    ('<name part="full">A</name>', "A"),
    ('<name part="first">J</name><name part="last">K</name>', "J K"),
    ('<name type="full">Test user</name>', "Test user"),
    ('<name>Li Na</name><name part="first">Na</name><name part="last">Li</name>', "Na Li"),
    ('<name part="first">娜娜</name><name part="last">欧阳</name>', "欧阳娜娜"),
    ('<name part="full"><last>王</last><first>磊</first></name>', "王磊"),
    ('<name part="nickname">Bob</name>', None),
], ids=["nested-full", "last-before-first", "suffix", "surname", "whitespace-and-empty-middle",
        "full-whitespace", "one-letter-full", "one-letter-parts", "type-full", "parts-over-full",
        "chinese-parts", "chinese-nested", "unknown-part"])
def test_a_name_reads_as_a_person_writes_it(names, name):
    assert name_of(names) == name


def test_the_primary_contact_is_the_customer():
    body = adf('<customer><contact><name>Other</name><email>o@example.com</email></contact>'
               '<contact primarycontact="1"><name>Primary</name><email>p@example.com</email></contact>'
               "</customer>")
    [lead] = parse_adf(body)
    assert (lead["customer"]["name"], lead["customer"]["email"]) == ("Primary", "p@example.com")


# --- phones ---------------------------------------------------------------------

def phones_of(phones: str) -> dict:
    [lead] = parse_adf(adf(customer("<name>A</name><email>a@example.com</email>" + phones)))
    return lead["customer"]


@pytest.mark.parametrize("marks", ['preferredcontact="1"', 'preferredcontact="true"', 'preferredcontact="Yes"'])
def test_the_phone_the_customer_prefers_wins_over_mobile_first(marks):
    c = phones_of(f'<phone type="cellphone">555-987-6543</phone><phone type="voice" {marks}>555-123-4567</phone>')
    assert c["phone"] == "555-123-4567"
    assert c["phones"][1] == {"number": "555-123-4567", "type": "voice", "preferred": True}


def test_a_phone_marked_not_preferred_leaves_mobile_first():
    c = phones_of('<phone type="home" preferredcontact="0">555-765-4321</phone>'
                  '<phone type="mobile" preferredcontact="false">555-123-4567</phone>')
    assert c["phone"] == "555-123-4567"


def test_placeholders_are_kept_and_flagged_but_never_the_leads_phone():
    c = phones_of('<phone type="phone" preferredcontact="1">1234567890</phone>'
                  '<phone type="cellphone">9999999999</phone><phone type="fax">416-555-0199</phone>')
    assert c["phone"] == "416-555-0199"  # even a fax beats a placeholder
    assert c["phones"] == [
        {"number": "1234567890", "type": "phone", "preferred": True, "placeholder": True},
        {"number": "9999999999", "type": "cellphone", "placeholder": True},
        {"number": "416-555-0199", "type": "fax"}]


def test_only_placeholders_give_no_phone():
    c = phones_of('<phone>9999999999</phone><phone>000-000-0000</phone>')
    assert "phone" not in c
    assert all(phone["placeholder"] for phone in c["phones"])


def test_an_extension_is_kept_with_the_number():
    c = phones_of('<phone type="work">867-586-7584 x204</phone>')
    assert c["phone"] == "867-586-7584 x204"


# --- source and provider --------------------------------------------------------------

def test_the_source_is_the_id_source_then_the_provider_never_the_vendor():
    vendor = "<vendor><vendorname>Springfield Toyota</vendorname></vendor>"
    provider = '<provider><name part="full">  Auto\nTrader </name><service>web</service></provider>'
    contact = customer("<name>A</name><email>a@example.com</email>")
    [with_id] = parse_adf(adf('<id source="autotrader">AT-1</id>' + contact + vendor + provider))
    [without_id] = parse_adf(adf("<id>AT-1</id>" + contact + vendor + provider))
    [dealer_only] = parse_adf(adf(contact + vendor))
    assert with_id["source"] == "autotrader"
    assert without_id["source"] == "Auto Trader"
    assert "source" not in dealer_only
    assert with_id["provider"] == without_id["provider"] == {"name": "Auto Trader", "service": "web"}
    assert "provider" not in dealer_only


def test_a_long_provider_name_is_cut_to_a_source_and_kept_whole_as_the_provider():
    name = "P" * 100
    [lead] = parse_adf(adf(customer("<email>a@example.com</email>") + f"<provider><name>{name}</name></provider>"))
    assert lead["source"] == name[:64]
    assert lead["provider"]["name"] == name


# --- text decoded exactly once ----------------------------------------------------------

@pytest.mark.parametrize("written, text", [
    ("Jane &amp; &nbsp; Co", "Jane & \xa0 Co"),
    ("&amp;nbsp; stays", "&nbsp; stays"),
    ("&amp;amp;", "&amp;"),
    ("&lt;b&gt;hi&lt;/b&gt;", "<b>hi</b>"),
    ("<![CDATA[<b>hi</b> &nbsp; &amp;]]>", "<b>hi</b> &nbsp; &amp;"),
    ("&AMP; &LT; &mdash;", "& < \u2014"),
    ("&nosuchentity; &#65;", "&nosuchentity; A"),
], ids=["nbsp", "escaped-nbsp", "escaped-amp", "escaped-markup", "cdata", "html-only-names", "unknown"])
def test_text_is_decoded_exactly_once(written, text):
    [lead] = parse_adf(adf(customer("<name>A</name>", f"<comments>{written}</comments>")))
    assert lead["comments"] == text


def test_an_html_entity_in_an_attribute_is_decoded_once():
    [lead] = parse_adf(adf('<id source="Caf&eacute;&quot;B&amp;C">1</id>' + customer("<name>A</name>")))
    assert lead["source"] == 'Café"B&C'


def test_the_same_comment_on_the_customer_and_the_vehicle_is_kept_once():
    body = adf("<vehicle><make>Ford</make><comments>Necesito información</comments></vehicle>"
               "<vehicle interest=\"test-drive\"><comments>Otra</comments></vehicle>"
               + customer("<name>A</name>", "<comments>Necesito información</comments>"))
    [lead] = parse_adf(body)
    assert lead["comments"] == "Necesito información\nvehicle: Otra"


def test_multi_line_comments_lose_the_documents_indentation():
    comments = "<comments>\n            Date of Birth: 1980-11-17\r\n            Monthly Income: 5500\n    </comments>"
    [lead] = parse_adf(adf(customer("<name>A</name>", comments)))
    assert lead["comments"] == "Date of Birth: 1980-11-17\nMonthly Income: 5500"


# --- raw -------------------------------------------------------------------------

PROSPECT = ('<Prospect status="new"><ID source="S">E-1</ID><customer><contact><name>A &amp; B</name>'
            "<phone>1</phone></contact><Comments><![CDATA[a < b & c]]></Comments></customer></Prospect>")


def test_raw_is_the_prospect_as_the_sender_tagged_it():
    [lead] = parse_adf(f"<ADF>\n{PROSPECT}\n</ADF>".encode())
    assert lead["raw"] == ('<Prospect status="new"><ID source="S">E-1</ID><customer><contact>'
                           "<name>A &amp; B</name><phone>1</phone></contact>"
                           "<Comments>a &lt; b &amp; c</Comments></customer></Prospect>")
    assert (lead["source"], lead["external_id"], lead["comments"]) == ("S", "E-1", "a < b & c")


def test_raw_does_not_depend_on_the_prospects_place_or_surroundings():
    [alone] = parse_adf(f"<adf>{PROSPECT}</adf>".encode())
    others = ['<prospect><id source="S">E-0</id></prospect>'] * 2
    body = (f'<?xml version="1.0"?>\n<adf>\n  <!-- <prospect>not one</prospect> -->\n'
            f"  <vendor><![CDATA[<prospect>]]></vendor>{others[0]}\n\n{others[1]}\t{PROSPECT}   "
            f"{others[0]}{others[1]}\n</adf>")
    leads = parse_adf(body.encode())
    assert len(leads) == 5
    assert leads[2]["raw"] == alone["raw"]
    assert leads[0]["raw"] == leads[1]["raw"] == '<prospect><id source="S">E-0</id></prospect>'


# --- refusals ------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<adf><prospect><customer><comments>&lol3;</comments></customer></prospect></adf>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE adf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<adf><prospect><customer><comments>&xxe;</comments></customer></prospect></adf>"""

PLAIN_DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE adf SYSTEM "adf.dtd"><adf><prospect/></adf>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, PLAIN_DOCTYPE, PLAIN_DOCTYPE.lower()],
                         ids=["billion-laughs", "xxe", "doctype", "lowercase-doctype"])
def test_dtds_and_entities_are_refused(body):
    with pytest.raises(AdfError, match="DTDs and entities are not accepted"):
        parse_adf(body)


@pytest.mark.parametrize("body, message", [
    (b"", "empty"),
    (b" \r\n\t", "empty"),
    (bytes(range(256)) * 4, "not well-formed"),
    (b"\x00\x81\xfe\xff garbage <<<>>> &&&", "not well-formed"),
    (b"Hello, I want a car", "not well-formed"),
    (b"<adf><prospect></adf>", "not well-formed"),
    (b'<?xml version="1.0"?><lead><prospect/></lead>', "expected <adf>"),
    (b"<adf/>", "no <prospect>"),
    (b"<adf><vendor/></adf>", "no <prospect>"),
    (b"<adf>" + b"<prospect/>" * 101 + b"</adf>", "at most 100"),
], ids=["empty", "whitespace", "all-bytes", "garbage", "plain-text", "unclosed", "non-adf-root",
        "no-prospect", "no-prospect-children", "too-many-prospects"])
def test_unreadable_bodies_raise_adf_error(body, message):
    with pytest.raises(AdfError, match=message):
        parse_adf(body)


@pytest.mark.parametrize("encoding", [
    "no-such-encoding", "rot13", "base64", "hex", "uu", "zlib", "bz2", "quopri",
    "utf-16", "UTF-16LE", "utf-32", "cp500", "utf-7", "hz", "idna", "unicode-escape", "undefined",
])
def test_a_bogus_or_unknown_declared_encoding_is_refused(encoding):
    with pytest.raises(AdfError, match="encoding"):
        parse_adf(adf(customer("<name>A</name>"), f'<?xml version="1.0" encoding="{encoding}"?>'))


CODEC_NAMES = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))


@pytest.mark.parametrize("encoding", CODEC_NAMES)
def test_every_declared_encoding_gives_leads_or_adf_error(encoding):
    body = adf(customer("<name>A</name>", "<comments>x</comments>"), f'<?xml encoding="{encoding}"?>')
    for payload in (body, body.replace(b">x<", b">" + bytes(range(128, 256)) + b"<")):
        try:
            [lead] = parse_adf(payload)
        except AdfError:
            continue
        assert lead["customer"]["name"] == "A"


@pytest.mark.parametrize("encoding, name", [
    ("ISO-8859-1", "José"), ("windows-1252", "Zoë – O’Brien"), ("GB18030", "王磊"), ("Shift_JIS", "山田太郎"),
    ("us-ascii", "Jose"),
])
def test_ascii_compatible_declared_encodings_are_used(encoding, name):
    body = adf(customer(f"<name>{name}</name>"), f'<?xml version="1.0" encoding="{encoding}"?>')
    [lead] = parse_adf(body.decode().encode(encoding))
    assert lead["customer"]["name"] == name


def test_the_declaration_is_read_from_the_first_kib_only():
    body = b"<!--" + b" " * 1024 + b'-->\n<?xml version="1.0" encoding="utf-16"?>' + adf(
        customer("<name>A</name>"), "")
    [lead] = parse_adf(body)  # the late declaration is not read (and then dropped as an instruction)
    assert lead["customer"]["name"] == "A"


MIB = 1024 * 1024


def fill(unit: bytes, size: int = MIB) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def in_comments(unit: bytes) -> bytes:
    head, tail = b"<adf><prospect><customer><comments>", b"</comments></customer></prospect></adf>"
    return head + fill(unit, MIB - len(head) - len(tail)) + tail


def nested(depth: int) -> bytes:
    return b"<adf><prospect>" + b"<a>" * (depth - 2) + b"</a>" * (depth - 2) + b"</prospect></adf>"


# Each a full MiB. The repair pass was quadratic on the unclosed constructs (minutes each);
# the closed ones, the deep and the wide are the costliest bodies for the rest.
WORST_CASES = {
    "xml-declarations": fill(b"<?xml "),
    "adf-instructions": fill(b"<?adf "),
    "cdata-starts": fill(b"<![CDATA["),
    "prospect-starts": fill(b"<prospect "),
    "less-thans": fill(b"<"),
    "ampersands": fill(b"&"),
    "comment-starts": fill(b"<!--"),
    "encoding-declarations": fill(b'<?xml encoding="'),
    "closed-instructions": fill(b"<?xml?>"),
    "closed-cdata": fill(b"<![CDATA[]]>"),
    "cdata-starts-in-adf": in_comments(b"<![CDATA["),
    "instructions-in-adf": in_comments(b"<?xml "),
    "prospects-in-adf": b"<adf>" + fill(b"<prospect ", MIB - 5),
    "deep": nested(MIB // 7),
    "wide": in_comments(b"<a/>"),
}


@pytest.mark.parametrize("body", WORST_CASES.values(), ids=WORST_CASES.keys())
def test_worst_case_bodies_are_refused(body):
    with pytest.raises(AdfError):
        parse_adf(body)


@pytest.mark.parametrize("unit", [b"&", b"<", b"< ", b"a < b & c ", b"&#1&x&amp"])
def test_worst_case_text_is_kept(unit):
    [lead] = parse_adf(in_comments(unit))
    assert len(lead["comments"]) > MIB // 2


def test_prospect_starts_in_a_comment_do_not_matter():
    body = b"<adf><prospect><id>E-1</id></prospect><!--" + fill(b"<prospect ", MIB - 60) + b"--></adf>"
    [lead] = parse_adf(body)
    assert lead["raw"] == "<prospect><id>E-1</id></prospect>"


def test_depth_up_to_the_limit_is_accepted():
    assert len(parse_adf(nested(MAX_DEPTH))) == 1
    with pytest.raises(AdfError, match=f"deeper than {MAX_DEPTH}"):
        parse_adf(nested(MAX_DEPTH + 1))


def test_elements_up_to_the_limit_are_accepted():
    assert len(parse_adf(b"<adf><prospect>" + b"<a/>" * (MAX_ELEMENTS - 2) + b"</prospect></adf>")) == 1
    with pytest.raises(AdfError, match=f"more than {MAX_ELEMENTS} elements"):
        parse_adf(b"<adf><prospect>" + b"<a/>" * (MAX_ELEMENTS - 1) + b"</prospect></adf>")


def test_adf_error_is_a_value_error():
    assert issubclass(AdfError, ValueError)


def test_hundred_prospects_are_accepted():
    assert len(parse_adf(b"<adf>" + b"<prospect/>" * 100 + b"</adf>")) == 100
