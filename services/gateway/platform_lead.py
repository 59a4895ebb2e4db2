"""The lead as platforms send it: the public contract of ``POST /v1/leads``.

It belongs to the gateway (the bus carries ``contracts.SubmittedLead``).
Limits are those of what the services store, so that a ``202`` is never
followed by a lead no service can keep.

Phones are read here too, for JSON and ADF leads alike: a number written
without a country code is read in the region of the lead's address, else in
the store's (``phone_region``), and becomes E.164 (``dealerflow.phones``); an
obvious placeholder (``1234567890``, ``9999999999``) is never a lead's phone.
"""
import functools
import re
from datetime import datetime, timedelta, timezone

import phonenumbers
from marshmallow import ValidationError, fields, validate, validates_schema

from dealerflow.contracts import CHANNELS, Tolerant
from dealerflow.phones import EXTENSION

# A lead's own timestamp must lie in this range: it fits every backend and
# every time zone, and anything outside it is a platform's clock or a typo.
EARLIEST_RECEIVED_AT = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST_RECEIVED_AT_AHEAD = timedelta(days=1)


def received_at_in_range(moment: datetime, now: datetime | None = None) -> bool:
    """Whether a lead's ``received_at`` is plausible: not before 2000 and at
    most a day ahead of ``now``. A naive time is compared as if it were UTC
    (its zone, at most 14 hours away, cannot move it out of range)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return EARLIEST_RECEIVED_AT <= aware <= now + LATEST_RECEIVED_AT_AHEAD


# An ADF <requestdate> is the sender's clock: one before this, or in the
# future, is taken for a mistake, and the lead counts from its submission.
EARLIEST_REQUEST_DATE = datetime(1990, 1, 1, tzinfo=timezone.utc)
WIDEST_OFFSET = timedelta(hours=14)  # a naive time is in the future only if it is so in every zone


def request_date_problem(moment: datetime, now: datetime | None = None) -> str | None:
    """Why an ADF ``<requestdate>`` is implausible (``"before 1990"``, ``"in
    the future"``), or None. A naive time is placed in the zone that makes it
    earliest before it is called future."""
    now = now or datetime.now(timezone.utc)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    if aware < EARLIEST_REQUEST_DATE:
        return "before 1990"
    if (aware if moment.tzinfo is not None else aware - WIDEST_OFFSET) > now:
        return "in the future"
    return None


# -- phones ----------------------------------------------------------------------

# 3-3-4 digits with separators, area code and exchange starting 2-9, an optional
# leading 1: "393-999-3922", "(555)-444-3333", "1-888-755-4460", "778.555.4474"
_NANP_SHAPE = re.compile(r"(?:1[-. ]?)?(?:\(\s*[2-9]\d\d\s*\)|[2-9]\d\d)[-. ]*[2-9]\d\d[-. ]\d{4}")
NANP_REGION = "US"  # +1: the United States, Canada and the Caribbean share one plan
COUNTRY_ALIASES = {  # what senders write besides ISO alpha-2 codes and country names
    "usa": "US", "us": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US",
    "america": "US", "can": "CA", "chn": "CN", "prc": "CN", "aus": "AU", "arg": "AR",
    "mex": "MX", "gbr": "GB", "uk": "GB", "u.k.": "GB", "deu": "DE", "fra": "FR",
    "nzl": "NZ", "jpn": "JP", "kor": "KR", "ind": "IN", "bra": "BR",
}


@functools.cache
def country_names() -> dict[str, str]:
    """Country names in English, Chinese, Spanish, French and German, as
    phonenumbers knows them, to region codes. Loading them takes phonenumbers
    some 0.4 s, once: the gateway does it when it starts (``intake``), not on
    the request of the first lead that names a country."""
    from phonenumbers.geocoder import _region_display_name
    names = {}
    for language in ("en", "zh", "es", "fr", "de"):
        for region in sorted(phonenumbers.SUPPORTED_REGIONS):
            name = _region_display_name(region, language)
            if name:
                names.setdefault(name.casefold(), region)
    return names


def country_region(text: str | None) -> str | None:
    """The region code of a country as a lead writes it (``US``, ``usa``,
    ``Canada``, ``中国``); None when it names no country we know."""
    if not text or len(text) > 100:
        return None
    key = " ".join(text.split()).casefold()
    if key.upper() in phonenumbers.SUPPORTED_REGIONS:
        return key.upper()
    return COUNTRY_ALIASES.get(key) or country_names().get(key)


def phone_region(text: str, address_region: str | None, store_region: str, adf: bool = False) -> str:
    """The region a phone without a country code is read in: the lead's
    address's country; else, for ADF (a North American format), North America
    when the number is plainly written the North American way (3-3-4 digits
    with separators); else the store's country."""
    if address_region:
        return address_region
    if adf and _NANP_SHAPE.fullmatch(EXTENSION.sub("", text).strip()):
        return NANP_REGION
    return store_region


def fits_lowercased(limit: int):
    """A length check on the form a service stores (stripped, lower case):
    lower-casing can make a string longer (``"İ".lower()`` is two characters)."""
    def check(value: str) -> None:
        if len(value.strip().lower()) > limit:
            raise ValidationError(f"Longer than {limit} characters once in lower case.")
    return check


def plausible_received_at(value: datetime) -> None:
    if not received_at_in_range(value):
        raise ValidationError("Must lie between 2000-01-01 and one day from now.")


MAX_MONEY = 10**15  # minor units: ten trillion yuan, and exact as a JSON number everywhere


class CustomerIn(Tolerant):
    name = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=40))
    phones = fields.List(fields.Dict(), validate=validate.Length(max=20))
    email = fields.String(validate=fits_lowercased(254))
    city = fields.String(validate=validate.Length(max=100))
    language = fields.String(validate=validate.Length(max=16))
    address = fields.Dict()


class InterestIn(Tolerant):
    brand = fields.String(validate=validate.Length(max=100))
    model = fields.String(validate=validate.Length(max=100))
    trim = fields.String(validate=validate.Length(max=100))
    year = fields.Integer(validate=validate.Range(min=1900, max=2100))
    condition = fields.String(validate=validate.Length(max=20))
    fuel_type = fields.String(validate=validate.Length(max=20))
    vin = fields.String(validate=validate.Length(max=40))
    stock = fields.String(validate=validate.Length(max=40))
    budget_min = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY))
    budget_max = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY))
    currency = fields.String(validate=validate.Length(equal=3))
    timeframe = fields.String(validate=validate.Length(max=40))
    finance = fields.Boolean()
    trade_in = fields.Boolean()
    test_drive = fields.Boolean()


class LeadIn(Tolerant):
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    external_id = fields.String(validate=validate.Length(min=1, max=128))
    channel = fields.String(load_default="other", validate=validate.OneOf(CHANNELS))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    received_at = fields.DateTime(validate=plausible_received_at)
    customer = fields.Nested(CustomerIn, required=True)
    interest = fields.Nested(InterestIn)
    trade_in = fields.List(fields.Dict(), validate=validate.Length(max=10))
    comments = fields.String(validate=validate.Length(max=10000))
    adf_status = fields.String(validate=validate.Length(max=20))

    @validates_schema
    def has_contact(self, data, **kwargs):
        customer = data.get("customer") or {}
        if not (customer.get("phone") or "").strip() and not (customer.get("email") or "").strip():
            raise ValidationError({"customer": {"phone": ["A phone or an email is required."]}})
