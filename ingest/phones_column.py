"""``quick_e164`` for a whole column, in Arrow: the same steps, run once per region, not once per number.

A signups file holds one phone per account, and the scalar fast path still costs a few
microseconds of Python a number. Here the numbers in the two plain shapes are split into
country code and national number for the whole column at once; then, one region at a time,
the region's own metadata (``phones.region_metadata``, the library's patterns) strips the national
prefix and tests validity with Arrow's regular expressions. A number gets an answer only
where every step is one this module follows exactly; every other number (another shape, a
region whose prefix has a transform rule, a placeholder, an international prefix written
as digits other than a leading 00) gets null and goes through ``normalise_phone_checked`` as
before, so the result never differs from the scalar path's (tests compare the two).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS

from .normalise import MAX_PHONE_TEXT
from .phones import (
    INTERNATIONAL,
    MAX_NSN,
    MIN_NSN,
    NATIONAL,
    NON_GEOGRAPHIC,
    region_metadata,
)
from .plain_values import ONE_DIGIT_REPEATED, PLACEHOLDER_TEXTS

# What ``phones._NON_DIGITS`` takes out of a number in the plain shapes, as a pattern.
_NON_DIGITS = r"[ .\-()+]"
# Text of digits and those separators only (where ``normalise``'s digit separators take out the same).
_IDD_TEXT = r"[0-9 .()+\-]+"
_CODES = pa.array(sorted(str(code) for code in COUNTRY_CODE_TO_REGION_CODE), type=pa.string())
_REGIONS = pa.array(sorted(SUPPORTED_REGIONS), type=pa.string())


def _true(mask) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _full(values: pa.Array, pattern: str) -> np.ndarray:
    return _true(pc.match_substring_regex(values, f"^(?:{pattern})$"))


def _sizes(values: pa.Array) -> np.ndarray:
    return pc.utf8_length(values).to_numpy(zero_copy_only=False)


def quick_e164_column(texts: pa.Array, regions: pa.Array) -> pa.Array:
    """Per row, what ``normalise_phone_checked(text, region)`` gives through ``quick_e164`` (the E.164
    text of a valid number), or null where this column path does not follow it."""
    n = len(texts)
    out = np.full(n, None, dtype=object)
    if n == 0:
        return pa.array(out, type=pa.string())
    digits = pc.replace_substring_regex(texts, _NON_DIGITS, "")
    region = pc.utf8_upper(pc.utf8_trim_whitespace(regions))
    region = pc.if_else(pc.is_in(region, value_set=_REGIONS), region, pa.scalar(None, pa.string()))
    # A leading 00 before a country code is the international prefix: the scalar rule asks ``quick_e164``
    # about "+" and the digits after it. Followed here where the text holds nothing but digits and the
    # separators both rules take out, so both read the same digits; other 00 numbers are left to it.
    idd = _full(texts, _IDD_TEXT) & _true(pc.match_substring_regex(digits, "^00[1-9]"))
    # Placeholders of digits (all zeros, one digit seven times or more) as ``is_placeholder`` finds them.
    usable = (_true(pc.less_equal(pc.utf8_length(texts), MAX_PHONE_TEXT))
              & (idd | ~_true(pc.starts_with(digits, "00")))
              & ~_true(pc.is_in(pc.utf8_lower(texts), value_set=PLACEHOLDER_TEXTS))
              & ~_true(pc.match_substring_regex(digits, ONE_DIGIT_REPEATED)))
    if idd.any():
        after = pc.utf8_slice_codeunits(digits, 2)
        texts = pc.if_else(pa.array(idd), pc.binary_join_element_wise("+", after, ""), texts)
        digits = pc.if_else(pa.array(idd), after, digits)
    international = usable & _full(texts, INTERNATIONAL.pattern)
    national = usable & ~international & _true(pc.is_valid(region)) & _full(texts, NATIONAL.pattern)
    code = np.full(n, None, dtype=object)
    number = np.asarray(digits.to_numpy(zero_copy_only=False), dtype=object)
    home = np.full(n, None, dtype=object)
    # International: the country code is the shortest known prefix of one to three digits.
    sizes = _sizes(digits)
    open_ = international & (sizes > MIN_NSN) & ~_true(pc.starts_with(digits, "0"))
    for size in (1, 2, 3):
        prefix = pc.utf8_slice_codeunits(digits, 0, size)
        found = open_ & _true(pc.is_in(prefix, value_set=_CODES)) & (sizes >= size)
        at = np.flatnonzero(found)
        prefix_values = np.asarray(prefix.to_numpy(zero_copy_only=False), dtype=object)
        code[at] = prefix_values[at]
        number[at] = [d[size:] for d in number[at]]
        open_ &= ~found
    for value, rows in _groups(code, international):
        first = COUNTRY_CODE_TO_REGION_CODE[int(value)][0]
        home[rows] = None if first == NON_GEOGRAPHIC else first
    # National: the row's region, unless the digits begin with its international prefix or code.
    region_values = np.asarray(region.to_numpy(zero_copy_only=False), dtype=object)
    home[national] = region_values[national]
    for value, rows in _groups(home, national):
        meta = region_metadata(value)
        if meta is None:
            home[rows] = None
            continue
        local = pa.array(number[rows], type=pa.string())
        refused = _true(pc.starts_with(local, str(meta.country_code)))
        if meta.international_prefix is not None:
            refused |= _true(pc.match_substring_regex(local, f"^(?:{meta.international_prefix.pattern})"))
        home[rows[refused]] = None
        code[rows[~refused]] = str(meta.country_code)
    for value, rows in _groups(home, international | national):
        meta = region_metadata(value)
        if meta is None or meta.transform:
            continue  # no metadata, or a prefix transform rule: the scalar path follows those
        stripped = _strip(pa.array(number[rows], type=pa.string()), meta)
        if stripped is not None:
            number[rows] = stripped
            out[rows] = [None if s is None else f"+{code[i]}{s}" for i, s in zip(rows, stripped)]
    decided = np.array([v is not None for v in out], dtype=bool)
    for value, rows in _groups(code, decided):
        valid = _valid(int(value), pa.array(number[rows], type=pa.string()))
        out[rows[~valid]] = None
    return pa.array(out, type=pa.string())


def _groups(values: np.ndarray, where: np.ndarray):
    """(value, row positions) for each distinct non-null value of ``values`` at the rows in ``where``."""
    at = np.flatnonzero(where)
    codes, uniques = pd.factorize(values[at], use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for k, value in enumerate(uniques):
        yield value, at[order[bounds[k]:bounds[k + 1]]]


def _strip(number: pa.Array, meta) -> list | None:
    """``phones._strip_national_prefix`` on the national numbers of one region; None per number too
    short or too long afterwards (and for every number when the region's prefix cannot be followed)."""
    sizes = _sizes(number)
    short = sizes < MIN_NSN
    if meta.national_prefix is not None:
        pattern = meta.national_prefix.pattern
        cut = pc.replace_substring_regex(number, f"^(?:{pattern})", "", max_replacements=1)
        viable = meta.general.pattern
        if viable is None:
            return None
        keep_whole = _full(number, viable.pattern) & ~_full(cut, viable.pattern)
        kept = _keeps_stripped(_sizes(cut), meta)
        values = np.where(~keep_whole & kept, np.asarray(cut.to_numpy(zero_copy_only=False), dtype=object),
                          np.asarray(number.to_numpy(zero_copy_only=False), dtype=object))
    else:
        values = np.asarray(number.to_numpy(zero_copy_only=False), dtype=object)
    lengths = np.array([len(v) for v in values])
    bad = short | (lengths < MIN_NSN) | (lengths > MAX_NSN)
    return [None if b else v for v, b in zip(values.tolist(), bad)]


def _keeps_stripped(size: np.ndarray, meta) -> np.ndarray:
    """``_Region.keeps_stripped`` for numbers of these lengths."""
    lengths = meta.lengths
    if lengths[0] == -1:
        return np.zeros(len(size), dtype=bool)
    local = np.isin(size, list(meta.local_lengths))
    fits = (size == lengths[0]) | (size > lengths[-1]) | np.isin(size, list(lengths[1:]))
    return ~local & (size >= lengths[0]) & fits


def _valid_in(meta, number: pa.Array) -> np.ndarray:
    """``_Region.valid``: the general description, then some number type of that length."""
    size = _sizes(number)
    general = meta.general
    ok = np.ones(len(number), dtype=bool) if not general.lengths else np.isin(size, list(general.lengths))
    ok &= _full(number, general.pattern.pattern) if general.pattern is not None else False
    typed = np.zeros(len(number), dtype=bool)
    for desc in meta.types:
        if desc.pattern is None:
            continue
        fits = np.ones(len(number), dtype=bool) if not desc.lengths else np.isin(size, list(desc.lengths))
        typed |= fits & _full(number, desc.pattern.pattern)
    return ok & typed


def _valid(country_code: int, number: pa.Array) -> np.ndarray:
    """``phones._valid`` for national numbers of one country code: the first of its regions whose
    leading digits the number has decides; a region without leading digits takes a number valid there."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    result = np.zeros(len(number), dtype=bool)
    pending = np.arange(len(number))
    for code in regions:
        meta = region_metadata(code)
        if meta is None or not len(pending):
            continue
        sub = number.take(pa.array(pending))
        if len(regions) > 1 and meta.leading_digits is not None:
            leads = _true(pc.match_substring_regex(sub, f"^(?:{meta.leading_digits.pattern})"))
            result[pending[leads]] = _valid_in(meta, sub.filter(pa.array(leads)))
            pending = pending[~leads]
        else:
            valid = _valid_in(meta, sub)
            result[pending[valid]] = True
            pending = pending[~valid]
        if len(regions) == 1:
            break
    return result
