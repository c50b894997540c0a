"""Identifier normalisers: provider rules, formats, placeholders, idempotence."""

import ipaddress
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.ingest.normalise import (
    PLACEHOLDER_VALUES,
    is_free_email_domain,
    is_placeholder,
    normalise_country,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_phone_checked,
    normalise_text_id,
)
from ringwatch.ingest.normalise_columns import (
    normalise_email_series,
    normalise_ip_series,
    normalise_phone_series,
    normalise_text_id_series,
)

# ---------------------------------------------------------------- email


@pytest.mark.parametrize(
    "raw, expected",
    [
        # Gmail ignores dots and +tags; case never matters
        ("John.Doe+promo@GMail.com", ("johndoe@gmail.com", "gmail.com")),
        ("  j.o.h.n.doe@gmail.com ", ("johndoe@gmail.com", "gmail.com")),
        # googlemail.com is the same mailbox as gmail.com
        ("john.doe+x@googlemail.com", ("johndoe@gmail.com", "gmail.com")),
        # Microsoft drops +tags but dots are significant
        ("jane.roe+shop@outlook.com", ("jane.roe@outlook.com", "outlook.com")),
        ("jane.roe+a+b@Hotmail.com", ("jane.roe@hotmail.com", "hotmail.com")),
        # Yahoo's disposable addresses are base-keyword
        ("base-keyword@yahoo.com", ("base@yahoo.com", "yahoo.com")),
        ("me+tag@icloud.com", ("me@icloud.com", "icloud.com")),
        ("me+tag@proton.me", ("me@proton.me", "proton.me")),
        # an unknown domain keeps dots and tags: its server may treat them as distinct
        ("first.last+x@Acme-Corp.example", ("first.last+x@acme-corp.example", "acme-corp.example")),
        ("mailto:Bob@Example.org", ("bob@example.org", "example.org")),
        # internationalised domains are stored in their ASCII (IDNA) form
        ("hans@München.de", ("hans@xn--mnchen-3ya.de", "xn--mnchen-3ya.de")),
    ],
)
def test_email_provider_rules(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["no-at-sign", "two@@example.com", "a@b@example.com", "a@nodot", "a@-bad-.com",
     "a@exa_mple.com", "a b@example.com", "@example.com", "a@example.123", "a@x.invalid",
     "+onlytag@gmail.com", "...@gmail.com", "x" * 65 + "@example.com"],
)
def test_invalid_emails(raw):
    assert normalise_email(raw) == (None, None)


@pytest.mark.parametrize(
    "raw",
    ["test@test.com", "TEST@Example.com", "a@a.com", "noreply@acme.example",
     "no-reply+x@acme.example", "n.o.r.e.p.l.y@gmail.com", "", "  ", None, float("nan"),
     "null", "N/A"],
)
def test_placeholder_emails_never_survive(raw):
    assert normalise_email(raw) == (None, None)


def test_free_email_domains():
    assert is_free_email_domain("gmail.com")
    assert is_free_email_domain("GMX.de")  # family with a country suffix
    assert is_free_email_domain("yahoo.co.uk")
    assert is_free_email_domain("mail.ru")
    assert not is_free_email_domain("acme-corp.example")
    assert not is_free_email_domain("live.example.org")  # "live" family needs a short suffix
    assert not is_free_email_domain(None)
    assert not is_free_email_domain("not a domain")


# ---------------------------------------------------------------- phone


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "us", "+14155550123"),  # region is case-insensitive
        ("+1 415 555 0123", None, "+14155550123"),
        ("+1 415 555 0123", "GB", "+14155550123"),  # +prefix wins over the region
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", None, "+442079460958"),  # 00 is the international prefix
        ("0044-20-7946-0958", "US", "+442079460958"),  # even where the IDD is 011
        ("030 901820", "DE", "+4930901820"),
        ("+33 1 42 68 53 00", None, "+33142685300"),
    ],
)
def test_phone_formats(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    "raw, region",
    [
        ("12", "US"),
        ("+1 000 000 0000", None),
        ("555-555-5555", "US"),  # all-same-digit placeholder
        ("0000000000", "US"),
        ("not a phone", "US"),
        ("1" * 300, "US"),
        ("", "US"),
        (None, "US"),
    ],
)
def test_invalid_phones(raw, region):
    assert normalise_phone(raw, region) is None


def test_unknown_region_is_ignored_not_fatal():
    assert normalise_phone_checked("(415) 555-0123", "ZZ") == ("4155550123", False)  # kept, unvalidated
    assert normalise_phone_checked("+14155550123", "ZZ") == ("+14155550123", True)


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("020 7946 0958", None, "02079460958"),  # national number, no region to read it with
        ("+999 12345", None, "+99912345"),  # no such country code
        ("+1 555 010 0123", None, "+15550100123"),  # the unallocated 555-01xx range
        ("07700 900123", "GB", "+447700900123"),  # a range reserved for drama and tests
    ],
)
def test_phones_that_cannot_be_validated_are_kept_not_dropped(raw, region, expected):
    assert normalise_phone_checked(raw, region) == (expected, False)
    assert normalise_phone(raw, region) == expected


# ---------------------------------------------------------------- IP


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("203.0.113.7", ("203.0.113.7", "203.0.113.0/24")),
        (" 198.51.100.200 ", ("198.51.100.200", "198.51.100.0/24")),
        ("10.1.2.3", ("10.1.2.3", "10.1.2.0/24")),  # private: kept, a NAT address is evidence
        ("2001:DB8:0:1::5", ("2001:db8:0:1::5", "2001:db8::/48")),
        ("2001:db8:abcd:12::1", ("2001:db8:abcd:12::1", "2001:db8:abcd::/48")),
        ("[2001:db8::1]", ("2001:db8::1", "2001:db8::/48")),
        ("::ffff:203.0.113.7", ("203.0.113.7", "203.0.113.0/24")),  # IPv4-mapped
        ("::FFFF:cb00:7107", ("203.0.113.7", "203.0.113.0/24")),
    ],
)
def test_ip_and_network(raw, expected):
    assert normalise_ip(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["0.0.0.0", "127.0.0.1", "127.8.9.10", "::1", "::", "255.255.255.255", "224.0.0.251",
     "ff02::1", "169.254.1.1", "fe80::1%eth0", "::ffff:127.0.0.1", "1.2.3", "300.1.1.1",
     "01.02.03.04", "example.com", "", None],
)
def test_ip_rejected(raw):
    assert normalise_ip(raw) == (None, None)


# ---------------------------------------------------------------- text ids and others


def test_text_id_keeps_case_and_collapses_whitespace():
    assert normalise_text_id("  Dev\tABC   123 ") == "Dev ABC 123"
    assert normalise_text_id("AbC") != normalise_text_id("abc")
    assert normalise_text_id(12345) == "12345"
    assert normalise_text_id("007") == "007"


@pytest.mark.parametrize(
    "raw",
    [None, float("nan"), pd.NA, "", "   ", "null", "NULL", "None", "n/a", "NA", "unknown",
     "Undefined", "-", "--", "?", "test", "0", "0000000000", "00000000-0000-0000-0000-000000000000",
     "0.0.0.0", "127.0.0.1", "::1", "::", "255.255.255.255", "test@test.com",
     "test@example.com", "noreply@anything.example"],
)
def test_placeholders_never_survive(raw):
    assert is_placeholder(raw)
    assert normalise_text_id(raw) is None
    assert normalise_email(raw) == (None, None)
    assert normalise_ip(raw) == (None, None)
    assert normalise_phone(raw, "US") is None


def test_every_listed_placeholder_is_a_placeholder():
    for value in PLACEHOLDER_VALUES:
        assert is_placeholder(value.upper())
        assert normalise_text_id(f"  {value} ") is None


@pytest.mark.parametrize("raw", ["dev-1", "a", "1", "Mozilla/5.0", "acct_000123"])
def test_real_values_are_not_placeholders(raw):
    assert not is_placeholder(raw)


def test_country():
    assert normalise_country(" us ") == "US"
    assert normalise_country("NA") == "NA"  # Namibia, not "n/a"
    assert normalise_country("uk") == "GB"
    assert normalise_country("XX") is None
    assert normalise_country("USA") is None
    assert normalise_country(None) is None


# ---------------------------------------------------------------- vectorised


def test_series_helpers_match_scalar_functions_and_keep_index():
    raw = pd.Series(["A.B@gmail.com", None, "ab@gmail.com", "bad", "A.B@gmail.com"],
                    index=[10, 11, 12, 13, 14], dtype="str")
    email, domain = normalise_email_series(raw)
    assert list(email.index) == [10, 11, 12, 13, 14]
    assert email.tolist()[0] == email.tolist()[2] == email.tolist()[4] == "ab@gmail.com"
    assert email.isna().tolist() == [False, True, False, True, False]
    assert domain.iloc[0] == "gmail.com"

    ips = pd.Series(["203.0.113.7", "0.0.0.0", None])
    ip, net = normalise_ip_series(ips)
    assert ip.tolist()[0] == "203.0.113.7" and ip.isna().tolist() == [False, True, True]
    assert net.iloc[0] == "203.0.113.0/24"

    assert normalise_text_id_series(pd.Series([" x ", "null"])).tolist()[0] == "x"


def test_phone_series_uses_each_rows_region():
    phones = pd.Series(["020 7946 0958", "020 7946 0958", "(415) 555-0123", None, "+14155550123"])
    regions = pd.Series(["GB", None, "US", "US", None])
    out = normalise_phone_series(phones, regions)
    assert out.iloc[0] == "+442079460958"
    assert out.iloc[1] == "02079460958"  # same number, no region: kept as its digits, unvalidated
    assert out.iloc[2] == "+14155550123"
    assert pd.isna(out.iloc[3])
    assert out.iloc[4] == "+14155550123"


# ---------------------------------------------------------------- properties

_emailish = st.builds(
    lambda local, sep, tag, domain: f"{local}{sep}{tag}@{domain}",
    st.text(alphabet="abcXYZ.09-_+", min_size=0, max_size=12),
    st.sampled_from(["", "+", "-", "."]),
    st.text(alphabet="abc.+-", max_size=5),
    st.sampled_from(["gmail.com", "GoogleMail.com", "outlook.com", "yahoo.com", "icloud.com",
                     "acme.example", "xn--mnchen-3ya.de", "münchen.de", "bad_domain", "a.b"]),
)
_phoneish = st.text(alphabet="+0123456789 ()-.x", max_size=22)
_ipish = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.text(alphabet="0123456789abcdef:.[]%", max_size=20),
)
_any_text = st.one_of(st.text(max_size=40), _emailish, _phoneish, _ipish)


@settings(max_examples=300, deadline=None)
@given(_any_text, st.sampled_from([None, "US", "GB", "DE", "IN", "zz", "1"]))
def test_normalisers_never_raise(text, region):
    for value in (text, f" {text} "):
        is_placeholder(value)
        normalise_email(value)
        normalise_phone(value, region)
        normalise_ip(value)
        normalise_text_id(value)
        normalise_country(value)
        is_free_email_domain(value)


@settings(max_examples=400, deadline=None)
@given(_any_text, st.sampled_from([None, "US", "GB", "DE", "IN"]))
def test_normalisers_are_idempotent(text, region):
    address, domain = normalise_email(text)
    if address is not None:
        assert normalise_email(address) == (address, domain)
        assert not is_placeholder(address)
    phone = normalise_phone(text, region)
    if phone is not None:
        assert phone.lstrip("+").isdigit()
        assert normalise_phone(phone, region) == phone
        assert normalise_phone(phone) == phone  # E.164 (or kept digits) needs no region
    ip, net = normalise_ip(text)
    if ip is not None:
        assert normalise_ip(ip) == (ip, net)
    text_id = normalise_text_id(text)
    if text_id is not None:
        assert normalise_text_id(text_id) == text_id
        assert not is_placeholder(text_id)


def test_nan_is_missing_everywhere():
    assert normalise_text_id(math.nan) is None
    assert normalise_country(math.nan) is None


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_ip_rules_match_ipaddress_classification(addr):
    # Expected result derived from the standard library's own classification of the address.
    text = str(addr)
    dropped = (addr.is_unspecified or addr.is_loopback or addr.is_multicast
               or addr.is_link_local or (addr.version == 4 and addr.is_reserved))
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return  # covered by the IPv4-mapped cases above
    if dropped or is_placeholder(text):
        assert normalise_ip(text) == (None, None)
    else:
        prefix = 24 if addr.version == 4 else 48
        network = ipaddress.ip_network((addr, prefix), strict=False)
        assert normalise_ip(text) == (text, str(network))
