"""Identifier normalisers: pure functions on one value (``normalise_columns`` applies them to columns).

Every normaliser returns None for anything that must not become an identifier: missing
values, placeholders (see PLACEHOLDER_VALUES) and values that do not parse. They never
raise on arbitrary input, and they are idempotent: normalising a normalised value returns
it unchanged.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from dataclasses import dataclass

import pandas as pd
import phonenumbers

from .phones import quick_e164

# Values that stand for "no value" in exported data. Compared after stripping, collapsing
# whitespace and lower-casing. A placeholder never becomes an identifier: thousands of
# accounts "sharing" the IP 0.0.0.0 or the email test@test.com are not a ring.
PLACEHOLDER_VALUES = frozenset({
    # generic "no value" markers
    "null", "none", "nil", "nan", "n/a", "na", "n.a.", "#n/a", "(null)", "<null>", "[null]",
    "unknown", "undefined", "unset", "not set", "not available", "missing", "empty",
    "blank", "-", "test", "testing", "dummy", "placeholder", "tbd", "xxx", "default",
    # e-mail addresses typed into forms to get past validation
    "test@test.com", "test@example.com", "a@a.com", "email@email.com", "user@example.com",
    "example@example.com", "foo@bar.com", "none@none.com", "no@email.com",
    # addresses that name no client
    "0.0.0.0", "127.0.0.1", "::1", "::", "255.255.255.255",
    # nil / max UUIDs used as "no device"
    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
    # phone numbers typed to get past validation
    "1234567890", "0123456789", "123456789", "+1234567890",
})

# Local parts of automated senders: never a person's address.
PLACEHOLDER_EMAIL_LOCALPARTS = frozenset({
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
})

# Text made only of digits and separators, such as 000-000-0000 or 0.0.0.0.
_DIGITISH = re.compile(r"[0-9 \-().+:/]+")
_DIGIT_SEPARATORS = str.maketrans("", "", " -().+:/")
_HAS_ALNUM = re.compile(r"[^\W_]")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _is_placeholder_text(text: str) -> bool:
    """is_placeholder for text already stripped, whitespace-collapsed and lower-cased."""
    if not text or text in PLACEHOLDER_VALUES:
        return True
    if not _HAS_ALNUM.search(text):
        return True  # "-", "--", "?", "..." and the like
    if _DIGITISH.fullmatch(text):
        digits = text.translate(_DIGIT_SEPARATORS)
        # 0, 0.0.0.0, 000-000 and the like; 5555555555-style phones
        if digits and (set(digits) == {"0"} or (len(digits) >= 7 and len(set(digits)) == 1)):
            return True
    if "@" in text:
        local = text.rsplit("@", 1)[0].split("+", 1)[0]
        if local in PLACEHOLDER_EMAIL_LOCALPARTS:
            return True
    return False


def placeholder_e164(number: str) -> bool:
    """is_placeholder for a '+' and digits, without its text clean-up (the digits are all there is)."""
    digits = number[1:]
    return number in PLACEHOLDER_VALUES or set(digits) == {"0"} or (len(digits) >= 7 and len(set(digits)) == 1)


def is_placeholder(value: object) -> bool:
    """True if `value` is missing or a placeholder that must never link accounts."""
    if _is_missing(value):
        return True
    return _is_placeholder_text(" ".join(str(value).split()).lower())


# ---------------------------------------------------------------------------- e-mail


@dataclass(frozen=True)
class EmailProvider:
    """How a mailbox provider maps many written addresses onto one mailbox."""

    canonical_domain: str
    ignore_dots: bool
    tag_separator: str | None


# Only providers whose rules are documented and stable; for any other domain the local
# part is kept as written (a company server may well treat a.b and ab as two people).
# Gmail ignores dots and +tags and googlemail.com is the same service; Microsoft, Apple,
# Proton and Fastmail deliver user+tag to user; Yahoo's disposable addresses are
# base-keyword.
_PLUS = "+"
EMAIL_PROVIDERS: dict[str, EmailProvider] = {
    "gmail.com": EmailProvider("gmail.com", True, _PLUS),
    "googlemail.com": EmailProvider("gmail.com", True, _PLUS),
    "outlook.com": EmailProvider("outlook.com", False, _PLUS),
    "hotmail.com": EmailProvider("hotmail.com", False, _PLUS),
    "live.com": EmailProvider("live.com", False, _PLUS),
    "msn.com": EmailProvider("msn.com", False, _PLUS),
    "yahoo.com": EmailProvider("yahoo.com", False, "-"),
    "icloud.com": EmailProvider("icloud.com", False, _PLUS),
    "me.com": EmailProvider("me.com", False, _PLUS),
    "mac.com": EmailProvider("mac.com", False, _PLUS),
    "protonmail.com": EmailProvider("protonmail.com", False, _PLUS),
    "protonmail.ch": EmailProvider("protonmail.ch", False, _PLUS),
    "proton.me": EmailProvider("proton.me", False, _PLUS),
    "pm.me": EmailProvider("pm.me", False, _PLUS),
    "fastmail.com": EmailProvider("fastmail.com", False, _PLUS),
    "fastmail.fm": EmailProvider("fastmail.fm", False, _PLUS),
}

# Free webmail domains: sharing one of these says nothing about two accounts, so the graph
# layer does not link on them. Families below match any country suffix (gmx.de, yahoo.co.uk).
FREE_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com",
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io",
    "gmx.com", "gmx.net", "web.de", "mail.com", "mail.ru", "bk.ru", "inbox.ru", "list.ru",
    "yandex.ru", "yandex.com", "ya.ru", "qq.com", "163.com", "126.com", "sina.com",
    "aol.com", "zoho.com", "fastmail.com", "fastmail.fm", "hey.com", "naver.com",
    "daum.net", "rediffmail.com", "libero.it", "orange.fr", "free.fr", "laposte.net",
    "t-online.de", "seznam.cz", "wp.pl", "o2.pl", "interia.pl",
})
FREE_EMAIL_FAMILIES = frozenset({"gmx", "yahoo", "hotmail", "outlook", "live", "aol", "yandex"})

# Characters RFC 5322 does not allow unquoted in a local part; quoted local parts are
# treated as invalid because no real sign-up form produces them.
_LOCAL_RE = re.compile(r"[^\s@\"(),:;<>\[\]\\]+")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_RESERVED_TLDS = frozenset({"invalid", "localhost", "local"})
_NO_EMAIL = (None, None)


def normalise_domain(raw: object) -> str | None:
    """Lower-case ASCII (IDNA) form of a mail domain, or None if it is not a valid one."""
    if _is_missing(raw):
        return None
    domain = str(raw).strip().lower().rstrip(".")
    if not domain or len(domain) > 253:
        return None
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253:
        return None
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None
    tld = labels[-1]
    if tld in _RESERVED_TLDS or not (tld.isalpha() or tld.startswith("xn--")):
        return None
    return domain


def normalise_email(raw: object) -> tuple[str | None, str | None]:
    """Canonical address and its domain, or (None, None) if invalid or a placeholder."""
    if is_placeholder(raw):
        return _NO_EMAIL
    text = str(raw).strip().lower()
    text = text.removeprefix("mailto:")
    if text.count("@") != 1:
        return _NO_EMAIL
    local, domain = text.split("@")
    domain = normalise_domain(domain)
    if domain is None or not _LOCAL_RE.fullmatch(local):
        return _NO_EMAIL
    provider = EMAIL_PROVIDERS.get(domain)
    if provider is not None:
        domain = provider.canonical_domain
        if provider.tag_separator:
            local = local.split(provider.tag_separator, 1)[0]
        if provider.ignore_dots:
            local = local.replace(".", "")
    if not local or len(local) > 64:
        return _NO_EMAIL
    address = f"{local}@{domain}"
    if is_placeholder(address):
        return _NO_EMAIL
    return address, domain


def is_free_email_domain(domain: object) -> bool:
    """True if `domain` is a free webmail domain that says nothing about who owns it."""
    domain = normalise_domain(domain)
    if domain is None:
        return False
    if domain in FREE_EMAIL_DOMAINS:
        return True
    family, _, suffix = domain.partition(".")
    # yahoo.co.uk, gmx.de, hotmail.com.br — but not live.example.org
    suffix_labels = suffix.split(".")
    return family in FREE_EMAIL_FAMILIES and len(suffix_labels) <= 2 and all(
        len(label) <= 3 for label in suffix_labels
    )


# ---------------------------------------------------------------------------- phone

# Real numbers are at most 15 digits plus formatting; longer text is not a phone number.
MAX_PHONE_TEXT = 64


def _phone_region(region: object) -> str | None:
    if _is_missing(region):
        return None
    code = str(region).strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


# Fewer digits than this is no phone number anywhere; more than 15 is beyond E.164.
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 6, 15


def normalise_phone(raw: object, region: str | None = None) -> str | None:
    """E.164 form of a phone number (or its digits when it cannot be validated), or None.

    `region` (ISO alpha-2, usually the account's country) is used for numbers written
    without a +country prefix. A leading 00 is read as the international prefix. See
    ``normalise_phone_checked`` for which numbers are kept unvalidated.
    """
    return normalise_phone_checked(raw, region)[0]


def normalise_phone_checked(raw: object, region: str | None = None) -> tuple[str | None, bool]:
    """(normalised phone or None, whether ``phonenumbers`` validated it).

    A number that cannot be validated is kept, not dropped: test, synthetic and many real
    data sets use unallocated ranges, and two accounts giving the same unallocated number
    still share it. It is kept as E.164 when it parses for a country, else as its digits
    (with a leading + when written internationally). Placeholders (one repeated digit,
    all zeros) and strings too short or too long to be a phone number are dropped.
    """
    if is_placeholder(raw):
        return None, False
    text = str(raw).strip()
    if len(text) > MAX_PHONE_TEXT:
        return None, False
    region = _phone_region(region)
    digits = text.translate(_DIGIT_SEPARATORS)
    # A leading 00 is the international prefix only before a country code (which never starts with 0).
    idd = digits.startswith("00") and digits[2:3].isdigit() and digits[2:3] != "0"
    international = text.startswith("+") or idd
    digits = digits[2:] if idd else digits
    candidates = ["+" + digits, text] if idd else [text]
    if digits.isdigit():
        # The digits alone are what an unvalidated number is kept as: reading them the same
        # way keeps normalising idempotent.
        candidates.append(("+" if international else "") + digits)
    quick = quick_e164(candidates[0], region)
    if quick is not None:  # what the first candidate gives, without the library's slow path
        return (None, False) if placeholder_e164(quick) else (quick, True)
    parsed = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return (None, False) if is_placeholder(e164) else (e164, True)
        parsed = parsed or _stable_e164(e164)
    kept = parsed or (("+" if international else "") + digits)
    national = kept.lstrip("+")
    if (not national.isdigit() or not _MIN_PHONE_DIGITS <= len(national) <= _MAX_PHONE_DIGITS
            or _is_placeholder_number(national)):
        return None, False
    return kept, False


def _stable_e164(e164: str) -> str | None:
    """An unvalidated number's E.164 form if reading it again gives it back, else None (keep the digits)."""
    try:
        again = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return e164 if phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164) == e164 else None


def _is_placeholder_number(digits: str) -> bool:
    """A number made of one repeated digit, or of zeros after its first digits, stands for no number."""
    return len(set(digits)) == 1 or set(digits[-7:]) == {"0"}


# ---------------------------------------------------------------------------- IP

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_TEXT = re.compile(r"\.".join([_OCTET] * 4))  # a dotted quad without leading zeros
IPV4_PREFIX = 24
IPV6_PREFIX = 48
_NO_IP = (None, None)


def normalise_ip(raw: object) -> tuple[str | None, str | None]:
    """Canonical IP and its /24 (v4) or /48 (v6) network, or (None, None).

    Private ranges are kept (an office NAT address is evidence); addresses that name no
    client are dropped: unspecified, loopback, multicast, link-local and, for v4, the
    reserved 240.0.0.0/4 block that holds the broadcast address. An IPv4-mapped v6
    address becomes its v4 address; a v6 zone id (%eth0) is dropped.
    """
    if is_placeholder(raw):
        return _NO_IP
    text = str(raw).strip()
    match = IPV4_TEXT.fullmatch(text)
    if match:
        # Fast path for the common case, same rules as below without ipaddress' overhead.
        first, second = int(match.group(1)), int(match.group(2))
        # unspecified, loopback 127/8, multicast 224/4 + reserved 240/4, link-local
        if text == "0.0.0.0" or first == 127 or first >= 224 or (first, second) == (169, 254):
            return _NO_IP
        return text, f"{text.rsplit('.', 1)[0]}.0/{IPV4_PREFIX}"
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    quick = _plain_ipv6(text) if _HEX_IPV6.fullmatch(text) else None
    if quick is not None:
        return quick
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return _NO_IP
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_link_local:
        return _NO_IP
    if addr.version == 4 and addr.is_reserved:
        return _NO_IP
    prefix = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    network = ipaddress.ip_network((addr, prefix), strict=False)
    return str(addr), str(network)


_HEX_IPV6 = re.compile(r"[0-9A-Fa-f:]{2,39}")  # groups of hex digits only: no dotted v4 tail
_V6_BYTES = 16
_V6_NETWORK_BYTES = IPV6_PREFIX // 8


def _plain_ipv6(text: str) -> tuple[str | None, str | None] | None:
    """normalise_ip for an IPv6 address written in hex groups, by the C library's parser; None to take the slow path.

    The C library writes the same canonical text as ``ipaddress`` (RFC 5952: lower case, no
    leading zeros, the first longest run of two or more zero groups as ::), except for
    addresses it writes with a dotted IPv4 tail: those, like anything it cannot parse, are
    left to ``ipaddress``.
    """
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return None
    first, second = packed[0], packed[1]
    # unspecified ::, loopback ::1, multicast ff00::/8, link-local fe80::/10
    if (not any(packed) or packed == _V6_LOOPBACK or first == 0xFF
            or (first == 0xFE and second & 0xC0 == 0x80)):
        return _NO_IP
    address = socket.inet_ntop(socket.AF_INET6, packed)
    network = socket.inet_ntop(socket.AF_INET6, packed[:_V6_NETWORK_BYTES] + bytes(_V6_BYTES - _V6_NETWORK_BYTES))
    if "." in address or "." in network:
        return None  # IPv4-mapped or -compatible: ipaddress decides
    return address, f"{network}/{IPV6_PREFIX}"


_V6_LOOPBACK = bytes(15) + b"\x01"


# ---------------------------------------------------------------------------- other ids


def normalise_text_id(raw: object) -> str | None:
    """Generic identifier: whitespace stripped and collapsed; placeholders become None.

    Case is kept on purpose: device fingerprints and payment tokens can be
    case-sensitive, so "AbC" and "abc" are different identifiers.
    """
    if _is_missing(raw):
        return None
    text = " ".join(str(raw).split())
    return None if _is_placeholder_text(text.lower()) else text


# ISO-3166 alpha-2 codes: phonenumbers' regions plus the few territories without a
# numbering plan. UK is the common misspelling of GB.
COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {
    "AQ", "BV", "HM", "TF", "UM", "GS", "PN",
}
_COUNTRY_ALIASES = {"UK": "GB"}


def normalise_country(raw: object) -> str | None:
    """Upper-case ISO-3166 alpha-2 code, or None if `raw` is not one."""
    if _is_missing(raw):
        return None
    code = str(raw).strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    return code if code in COUNTRY_CODES else None
