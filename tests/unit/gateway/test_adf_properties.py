"""services.gateway.adf searched with generated bodies (bounded, and with a
fixed seed in CI, by the hypothesis profile in tests/conftest.py).

The gateway's promise to a platform: any body gets leads or an AdfError (a
400), never another exception (a 500); what a sender wrote comes back; a
prospect is recognised by its raw text wherever it stands.
"""
import json

from hypothesis import given
from hypothesis import strategies as st

from services.gateway.adf import AdfError, parse_adf

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
    assert customer.get("name") == (name.strip() or None)
    assert customer.get("phone") == (phone.strip() or None)
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
