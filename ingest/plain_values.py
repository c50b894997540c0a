"""Values the scalar normalisers would return unchanged, recognised for a whole column at once.

Most identifiers in real exports are already clean: ``acct_0012``, a hex device hash,
``203.0.113.7``. For those, running ``normalise_text_id`` or ``normalise_ip`` once per
distinct value costs microseconds of Python each, millions of times. The masks here pick
out, with Arrow's vectorised regular expressions, only values for which the scalar rule
provably gives the value itself back (and, for IPs, the /24 network that follows from the
text); every other value still goes through the scalar normaliser, which stays the single
definition of each rule. Each mask errs on the side of "not plain": a value it leaves out
costs time, never a different result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .normalise import (
    EMAIL_PROVIDERS,
    IPV4_PREFIX,
    IPV4_TEXT,
    PLACEHOLDER_EMAIL_LOCALPARTS,
    PLACEHOLDER_VALUES,
)

# Printable ASCII but '@' (0x21-0x3F, 0x41-0x7E), words joined by single spaces: nothing for
# whitespace collapsing to change, no e-mail-like text for the placeholder e-mail rules. And
# an ASCII letter in some word, which rules out the digits-and-separators placeholders
# (0000, 000-000-0000, ...) and the "no letter or digit" ones (-, ?, ...): the words before
# it, the word holding it, the words after it.
_WORD = "[!-?A-~]"
PLAIN_TEXT = rf"^({_WORD}+ )*{_WORD}*[A-Za-z]{_WORD}*( {_WORD}+)*$"
# The placeholder values as Arrow text, for ``is_in`` (here, in ``phones_column`` and in ``normalise_columns``).
PLACEHOLDER_TEXTS = pa.array(sorted(PLACEHOLDER_VALUES), type=pa.string())

IPV4_PLAIN = f"^{IPV4_TEXT.pattern}$"
# Addresses the IP rule drops or the placeholder rule catches (0.0.0.0, loopback 127/8,
# 224/4 and 240/4, link-local 169.254/16, one digit repeated 7+ times such as
# 111.111.111.111); they take the scalar path.
IPV4_SPECIAL = r"^(127\.|22[4-9]\.|2[3-5][0-9]\.|169\.254\.)"
ONE_DIGIT_REPEATED = "^(" + "|".join(f"{d}{{7,}}" for d in range(10)) + "|0+)$"
# IPv6 text already as ``normalise_ip`` writes it (RFC 5952: lower case, no leading zeros, the
# longest run of two or more zero groups as ::) and naming a client. The shape: eight groups,
# or groups on both sides of one :: (none before it: that rules out ::, ::1 and the v4-mapped
# and -compatible forms, whose canonical text has a dotted tail). Then, conservatively: no
# group with a leading zero, no zero group beside :: or beside another zero group (so the ::
# stands for the only run of two or more, the longest), :: standing for two groups or more
# (at most six colons), and not multicast (ff00::/8) or link-local (fe80::/10).
IPV6_SHAPE = r"^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}$|^[0-9a-f]{1,4}(:[0-9a-f]{1,4})*::([0-9a-f]{1,4}(:[0-9a-f]{1,4})*)?$"
IPV6_NOT_CANONICAL = r"(^|:)0[0-9a-f]|(^|:)0:0(:|$)|(^|:)0::|::0(:|$)"
IPV6_SPECIAL = "^(ff|fe[89ab])"


def text_array(values: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The column as Arrow text, or None when it is not a text column (timestamps and the like)."""
    if not pd.api.types.is_string_dtype(values):
        return None
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # an object column holding something other than text


def _mask(condition) -> np.ndarray:
    return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)


def plain_text_ids(text) -> np.ndarray:
    """Per row, whether ``normalise_text_id`` returns the value unchanged (never true for null)."""
    plain = pc.match_substring_regex(text, PLAIN_TEXT)
    return _mask(pc.and_(plain, pc.invert(pc.is_in(pc.utf8_lower(text), value_set=PLACEHOLDER_TEXTS))))


def plain_ipv4(text) -> np.ndarray:
    """Per row, whether ``normalise_ip`` returns the value itself and its /24 (a clean public or private v4)."""
    digits = pc.replace_substring(text, ".", "")
    special = pc.or_(pc.match_substring_regex(text, IPV4_SPECIAL),
                     pc.match_substring_regex(digits, ONE_DIGIT_REPEATED))
    return _mask(pc.and_(pc.match_substring_regex(text, IPV4_PLAIN), pc.invert(special)))


def ipv4_networks(text):
    """The /24 network text of dotted-quad addresses, as ``normalise_ip`` writes it."""
    return pc.replace_substring_regex(text, r"\.[0-9]+$", f".0/{IPV4_PREFIX}")


# Plain ASCII addresses: a local part of letters, digits and . _ + -, then host labels as
# ``normalise_domain`` accepts them and an alphabetic top-level label. Anything else (quotes,
# mailto:, Unicode, IDNA, spaces) takes the scalar path.
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = rf"^[A-Za-z0-9._+-]+@({_LABEL}\.)+[A-Za-z]{{1,63}}$"
_EMAIL_PARTS = r"^(?P<local>[^@]*)@(?P<domain>.*)$"
_RESERVED_TLD = r"\.(invalid|localhost|local)$"
_LOCALPARTS = pa.array(sorted(PLACEHOLDER_EMAIL_LOCALPARTS), type=pa.string())
# Longest address whose domain stays within 253 characters whatever its local part.
_MAX_EMAIL = 254


def _automated(local) -> pa.Array:
    """Whether a local part, up to its first +, names an automated sender (noreply, ...)."""
    tagged = pc.fill_null(pc.match_substring(local, "+"), False)
    return pc.is_in(_on_rows(local, tagged, lambda rows: pc.replace_substring_regex(rows, r"\+.*$", "")),
                    value_set=_LOCALPARTS)


def _of_providers(domain, rule) -> pa.Array:
    """Per row, whether the domain is one of the providers ``rule`` holds for (never null)."""
    names = pa.array([name for name, provider in EMAIL_PROVIDERS.items() if rule(provider)], type=pa.string())
    return pc.fill_null(pc.is_in(domain, value_set=names), False)


def _on_rows(values, mask, change):
    """``values`` with ``change`` applied to the rows in ``mask`` only."""
    if not pc.any(mask).as_py():
        return values
    return pc.replace_with_mask(values, mask, change(pc.filter(values, mask)))


def plain_emails(text) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """(mask, address, domain): the rows where ``normalise_email`` gives a valid address, and what it gives.

    The provider rules (``EMAIL_PROVIDERS``: canonical domain, +tags, ignored dots) are
    applied in Arrow. Placeholders, reserved domains and local parts that end up empty or
    too long are left to the scalar path.
    """
    lower = pc.ascii_lower(text)
    parts = pc.extract_regex(lower, _EMAIL_PARTS)
    local, domain = pc.struct_field(parts, "local"), pc.struct_field(parts, "domain")
    plain = pc.and_(pc.match_substring_regex(text, _EMAIL), pc.less_equal(pc.utf8_length(text), _MAX_EMAIL))
    plain = pc.and_(plain, pc.invert(pc.match_substring_regex(domain, _RESERVED_TLD)))
    plain = pc.and_(plain, pc.invert(pc.or_(pc.is_in(lower, value_set=PLACEHOLDER_TEXTS), _automated(local))))
    canonical = domain
    for name, provider in EMAIL_PROVIDERS.items():
        if provider.canonical_domain != name:
            canonical = pc.if_else(pc.equal(domain, name), provider.canonical_domain, canonical)
    # Each rule runs on the rows of the providers it is theirs: tags cut first, then dots.
    for separator in sorted({p.tag_separator for p in EMAIL_PROVIDERS.values() if p.tag_separator}):
        local = _on_rows(local, _of_providers(domain, lambda p, s=separator: p.tag_separator == s),
                         lambda rows, s=separator: pc.replace_substring_regex(rows, "\\" + s + ".*$", ""))
    local = _on_rows(local, _of_providers(domain, lambda p: p.ignore_dots),
                     lambda rows: pc.replace_substring(rows, ".", ""))
    address = pc.binary_join_element_wise(local, canonical, "@")
    size = pc.utf8_length(local)
    plain = pc.and_(plain, pc.and_(pc.greater(size, 0), pc.less_equal(size, 64)))
    plain = pc.and_(plain, pc.invert(pc.or_(pc.is_in(address, value_set=PLACEHOLDER_TEXTS), _automated(local))))
    return _mask(plain), address, canonical
