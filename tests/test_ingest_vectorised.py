"""The column normalisers' Arrow fast paths give exactly what the scalar normalisers give.

``plain_values`` recognises values the scalar rules would return unchanged (or, for e-mail,
canonicalise by the provider rules) and skips Python for them; the scalar functions stay
the definition of each rule. Every value here is run both ways and must come out the same,
including the ones the fast path must leave to the scalar path.
"""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ringwatch.graph.load import linkable_identifiers
from ringwatch.ingest.normalise import (
    PLACEHOLDER_VALUES,
    normalise_email,
    normalise_ip,
    normalise_text_id,
)
from ringwatch.ingest.normalise_columns import (
    normalise_email_series,
    normalise_ip_series,
    normalise_text_id_series,
)
from ringwatch.ingest.plain_values import (
    plain_emails,
    plain_ipv4,
    plain_text_ids,
    text_array,
)

EMAILS = [
    "A.B+x@Gmail.com", "ab@googlemail.com", "x.y+z@GoogleMail.COM", " mailto:Foo@Example.ORG ", "mailto:a@b.com",
    "test@test.com", "TEST@Example.com", "noreply@acme.io", "NoReply+x@acme.io", "x+noreply@gmail.com",
    "no.reply@gmail.com", "do-not-reply@x.org", "x@y", "a@@b.com", "üser@exämple.de", "a@exämple.de",
    "a.b-c@yahoo.com", "-x@yahoo.com", "a+b@yahoo.com", "user+tag@outlook.com", "+tag@outlook.com",
    "..@gmail.com", ".+x@gmail.com", "u@localhost", "u@host.local", "u@x.INVALID", "u@-bad.com", "u@bad-.com",
    "u@xn--bcher-kva.com", "u@b.xn--p1ai", "", "  ", "null", "N/A", 'a"b@c.com', "a b@c.com", "plain@company.co.uk",
    "UPPER@COMPANY.COM", "o'brien@x.ie", "x" * 64 + "@x.com", "x" * 65 + "@x.com", "x" * 65 + "+t@gmail.com",
    "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com", "a@b." + "c" * 63, "a@b." + "c" * 64,
    "a@" + ".".join(["b" * 60] * 4) + ".com", "a@b.c0m", "a@123.com", "j@j.j", "a@b.com.", "a@b..com",
    "first.last@sub.domain.example", "a+b+c@icloud.com", "A@ME.COM", "x@pm.me", "x@proton.me", "0@0.com",
    "a@b.c-d", "a@1b.com", "a\t@b.com", "a@b.com\n", "ab@b.com ",
]
IPS = [
    "8.8.8.8", "10.1.2.3", "192.168.1.1", "192.168.001.1", " 1.2.3.4 ", "1.2.3.4\t", "0.0.0.0", "0.1.2.3",
    "127.0.0.1", "127.5.5.5", "126.0.0.1", "128.0.0.1", "223.255.255.255", "224.0.0.1", "239.1.1.1",
    "240.1.1.1", "255.255.255.255", "169.254.1.1", "169.253.1.1", "170.254.1.1", "111.111.111.111",
    "22.22.22.2", "22.22.22.3", "11.11.11.1", "1.1.1.1", "99.99.99.9", "2001:db8::1", "[2001:db8::1]",
    "fe80::1%eth0", "::ffff:8.8.4.4", "::ffff:127.0.0.1", "::1", "::", "ff02::1", "2001:DB8:0:0:0:0:0:2",
    "garbage", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "", "unknown", "100.64.0.1",
    "9.9.9.99", "33.33.33.33", "3.33.33.33", "1.2.3.4/24", "١.٢.٣.٤",
]
TEXTS = [
    "abc", "ABC", "acct_000123", " a  b ", "a b", "a  b", "a\tb", "null", "NULL", "None", "nOnE", "-", "--", "?",
    "0000", "1111111", "123456", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-ffff-ffff-ffff-ffffffffffff",
    "ffffffff-ffff-ffff-ffff-fffffffffff0", "x@y.com", "noreply@x", "dé", "n.a.", "not set", "Not  Set",
    "a/b (c; d)", "Mozilla/5.0 (X11; Linux x86_64)", "_", "__a__", "ab@", "Test", "testing123", "0.0.0.0", "x" * 300,
    "𝔘nicode", "tbd", "TBD", "xxx", "xXx", "a-", "a ", " a", "a\u00a0b", "a\u2003b", "A1", "1A", "n/a", "N/A",
    "#n/a", "(null)", "<null>", "[null]", "0-0", "5555555555", "555-555-5555", "a:b", "a.b.c", "~a~", "a\\b",
]
PLACEHOLDERS = sorted(PLACEHOLDER_VALUES)


def _plain(value):
    return None if pd.isna(value) else value


def _column(values) -> pd.Series:
    return pd.Series(list(values) + [None], dtype="str")


def _pairs(series_pair) -> list:
    return [(_plain(a), _plain(b)) for a, b in zip(*series_pair)]


def _same_as_scalar(values: pd.Series) -> None:
    assert _pairs(normalise_email_series(values)) == [normalise_email(v) for v in values]
    assert _pairs(normalise_ip_series(values)) == [normalise_ip(v) for v in values]
    assert [_plain(v) for v in normalise_text_id_series(values)] == [normalise_text_id(v) for v in values]


@pytest.mark.parametrize("values", [EMAILS, IPS, TEXTS, PLACEHOLDERS], ids=["emails", "ips", "texts", "placeholders"])
def test_every_column_normaliser_matches_its_scalar_rule(values):
    _same_as_scalar(_column(values + EMAILS[:5] + IPS[:5] + TEXTS[:5]))


def test_the_fast_paths_take_clean_values_and_leave_the_rest():
    emails = plain_emails(text_array(_column(["A.B+x@Gmail.com", "a@company.example", "test@test.com",
                                              "noreply@x.com", "u@x.local", "mailto:a@b.com"])))[0]
    assert emails.tolist() == [True, True, False, False, False, False, False]
    ips = plain_ipv4(text_array(_column(["8.8.8.8", "10.0.0.1", "127.0.0.1", "111.111.111.111", " 1.2.3.4", "::1"])))
    assert ips.tolist() == [True, True, False, False, False, False, False]
    texts = plain_text_ids(text_array(_column(["acct_1", "python-sdk/1.0 (linux)", "null", "0000", "a  b", "x@y"])))
    assert texts.tolist() == [True, True, False, False, False, False, False]


def test_provider_rules_apply_in_the_fast_path():
    address, domain = normalise_email_series(_column(["A.B+x@GoogleMail.com", "a.b-x@Yahoo.com", "a.b+x@outlook.com",
                                                      "a.b+x@company.example"]))
    assert [_plain(v) for v in address] == ["ab@gmail.com", "a.b@yahoo.com", "a.b@outlook.com",
                                            "a.b+x@company.example", None]
    assert [_plain(v) for v in domain] == ["gmail.com", "yahoo.com", "outlook.com", "company.example", None]


def test_a_cache_shared_between_chunks_gives_the_same_results():
    cache: dict = {}
    values = _column(EMAILS + IPS + TEXTS)
    first = normalise_email_series(values, cache)
    again = normalise_email_series(values.iloc[::-1].reset_index(drop=True), cache)
    assert _pairs(again)[::-1] == _pairs(first)


def test_a_column_that_is_not_text_takes_the_scalar_path():
    stamps = pd.Series(pd.to_datetime(["2026-01-02 03:04:05", None]))
    assert [_plain(v) for v in normalise_text_id_series(stamps)] == [normalise_text_id(v) for v in stamps]


# Characters that reach every branch of the rules: separators, case, '@', '+', '-', '.', digits,
# whitespace of several kinds, Unicode letters and a control character.
_ALPHABET = st.sampled_from(list("aAbBgGzZ019.+-_@: \t/()'\"%[]") + ["é", "\u00a0", "\u2003", "\x01", "ß", "İ"])
_PIECES = st.sampled_from(["gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "example", "local", "invalid",
                           "xn--p1ai", "127.", "169.254.", "0.0.0.0", "111.111.111.", "10.", "255.", "::", "null",
                           "noreply", "test", "mailto:", "co.uk", "1"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.one_of(_ALPHABET, _PIECES), max_size=12).map("".join), min_size=1, max_size=40))
def test_generated_values_match_the_scalar_rules(values):
    _same_as_scalar(_column(values))


def test_free_email_domains_never_link_and_other_identifiers_stay():
    signups = pd.DataFrame({
        "account_id": ["a1", "a2", "a3"], "email": ["x@gmail.com", "y@corp.example", None],
        "email_domain": ["gmail.com", "corp.example", None], "phone": [None, None, None],
        "ip": ["1.2.3.4", None, "gmail.com"], "ip_net": ["1.2.3.0/24", None, None], "device_id": [None, "d", None],
        "user_agent": [None, None, None], "payment_id": [None, None, None], "org_id": [None, None, "gmx.de"],
    }, dtype="str")
    kept = linkable_identifiers(signups)
    assert sorted(map(tuple, kept.to_numpy().tolist())) == sorted([
        ("a1", "email", "x@gmail.com"), ("a1", "ip", "1.2.3.4"), ("a1", "ip_net", "1.2.3.0/24"),
        ("a2", "email", "y@corp.example"), ("a2", "email_domain", "corp.example"), ("a2", "device", "d"),
        ("a3", "ip", "gmail.com"), ("a3", "org", "gmx.de"),
    ])
