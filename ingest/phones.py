"""Fast E.164 for the common shapes of a phone number, exactly as ``phonenumbers`` reads them.

``phonenumbers`` spends about 100 µs on a number; a large signups file holds one phone per
account. Most numbers are written in one of two plain shapes: international
(``+44 20 7946 0000``; the caller reads a leading 00 as +) or national
(``(212) 555-0123``, ``020 7946 0000``) with the account's region. For those,
``quick_e164`` follows the library's own steps — country code, national prefix and its
transform rule, possible lengths, the validity patterns of the number's region — with the
library's metadata, precompiled once per region.

It answers only when it is sure: it returns the E.164 form of a number that
``phonenumbers`` parses and declares valid, and None for everything else (another shape,
an international prefix written as digits, national digits that begin with the country
code, a number that is not valid). None sends the number through ``phonenumbers`` itself,
so the result never differs from the library's (tests compare the two on numbers of every
region, type and written form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# Digits only in plain groups (ASCII digits: a str pattern's \d would take any script's).
INTERNATIONAL = re.compile(r"\+[0-9]+(?:[ .\-][0-9]+)*")
NATIONAL = re.compile(r"(?:\([0-9]+\)|[0-9]+)(?:[ .\-]?[0-9]+)*")
_NON_DIGITS = str.maketrans("", "", " .-()+")
MIN_NSN, MAX_NSN = 2, 17  # the library's bounds on a national significant number
NON_GEOGRAPHIC = "001"


@dataclass(frozen=True)
class _Desc:
    """One number description: its possible lengths and its full-match pattern."""

    lengths: frozenset[int]
    pattern: re.Pattern | None

    @classmethod
    def of(cls, desc) -> _Desc | None:
        if desc is None:
            return None
        text = desc.national_number_pattern
        return cls(frozenset(desc.possible_length), re.compile(text) if text else None)

    def matches(self, number: str) -> bool:
        if self.lengths and len(number) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(number) is not None


@dataclass(frozen=True)
class _Region:
    """A region's metadata as the fast path uses it."""

    country_code: int
    general: _Desc
    types: tuple[_Desc, ...]
    leading_digits: re.Pattern | None
    national_prefix: re.Pattern | None
    transform: str | None
    international_prefix: re.Pattern | None
    lengths: tuple[int, ...]
    local_lengths: frozenset[int]
    _typed: dict = field(default_factory=dict, compare=False, repr=False)

    def viable(self, number: str) -> bool:
        """The general pattern alone, without lengths (the library's test before stripping a prefix)."""
        pattern = self.general.pattern
        return pattern is not None and pattern.fullmatch(number) is not None

    def valid(self, number: str) -> bool:
        """Whether the number is of a known type here (the library's number type is not UNKNOWN)."""
        if not self.general.matches(number):
            return False
        typed = self.typed(len(number))
        return typed is not None and typed.fullmatch(number) is not None

    def typed(self, length: int) -> re.Pattern | None:
        """One pattern for every number type a number of this length may be (None: no type may)."""
        found = self._typed.get(length, False)
        if found is False:
            patterns = [desc.pattern.pattern for desc in self.types
                        if desc.pattern is not None and (not desc.lengths or length in desc.lengths)]
            found = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
            self._typed[length] = found
        return found

    def keeps_stripped(self, number: str) -> bool:
        """The library keeps a stripped national prefix unless the rest is too short or of an impossible length."""
        lengths, size = self.lengths, len(number)
        if lengths[0] == -1 or size in self.local_lengths:
            return False
        return size >= lengths[0] and (size == lengths[0] or size > lengths[-1] or size in lengths[1:])


@cache
def region_metadata(code: str) -> _Region | None:
    meta = PhoneMetadata.metadata_for_region(code, None)
    general = None if meta is None else meta.general_desc
    if general is None or not general.possible_length:
        return None  # the library cannot test such a region's lengths either
    kinds = [meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip, meta.personal_number,
             meta.pager, meta.uan, meta.voicemail, meta.fixed_line]
    if not meta.same_mobile_and_fixed_line_pattern:
        kinds.append(meta.mobile)
    types = tuple(d for d in (_Desc.of(k) for k in kinds) if d is not None)
    compiled = {name: re.compile(text) if text else None for name, text in (
        ("leading", meta.leading_digits), ("prefix", meta.national_prefix_for_parsing),
        ("idd", meta.international_prefix))}
    return _Region(
        meta.country_code, _Desc.of(general), types, compiled["leading"], compiled["prefix"],
        meta.national_prefix_transform_rule or None, compiled["idd"],
        tuple(general.possible_length), frozenset(general.possible_length_local_only or ()),
    )


def _strip_national_prefix(number: str, meta: _Region) -> str | None:
    """The national number after the library's prefix stripping; None where the fast path does not follow it."""
    found = meta.national_prefix.match(number) if meta.national_prefix else None
    if found is None:
        return number
    groups = found.groups()
    if meta.transform and not groups:
        return None  # the library cannot apply such a rule either
    if meta.transform and groups[-1] is not None:
        stripped = meta.national_prefix.sub(meta.transform, number, count=1)
    else:
        stripped = number[found.end():]
    if meta.viable(number) and not meta.viable(stripped):
        return number
    return stripped if meta.keeps_stripped(stripped) else number


def _valid(country_code: int, national: str) -> bool:
    """The library's is_valid_number for a parsed (country code, national significant number)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) == 1:
        meta = region_metadata(regions[0])
        return meta is not None and meta.valid(national)
    for code in regions:
        meta = region_metadata(code)
        if meta is None:
            continue
        if meta.leading_digits is not None:
            if meta.leading_digits.match(national):
                return meta.valid(national)
        elif meta.valid(national):
            return True
    return False


def _country_code(digits: str) -> tuple[int, str] | None:
    """(country code, rest) as the library splits digits written after a +; None when none is known."""
    if not digits or digits[0] == "0":
        return None
    for size in range(1, min(len(digits), 3) + 1):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[size:]
    return None


def quick_e164(text: str, region: str | None) -> str | None:
    """E.164 form of a valid number in a plain shape, as ``phonenumbers`` gives it; None when unsure or invalid."""
    if INTERNATIONAL.fullmatch(text):
        digits = text.translate(_NON_DIGITS)
        split = _country_code(digits) if len(digits) > MIN_NSN else None
        if split is None:
            return None
        code, national = split
        home = COUNTRY_CODE_TO_REGION_CODE[code][0]
        meta = None if home == NON_GEOGRAPHIC else region_metadata(home)
    elif region is not None and NATIONAL.fullmatch(text):
        meta = region_metadata(region)
        national = text.translate(_NON_DIGITS)
        if meta is None or (meta.international_prefix and meta.international_prefix.match(national)):
            return None
        code = meta.country_code
        if national.startswith(str(code)):
            return None
    else:
        return None
    if meta is None or len(national) < MIN_NSN:
        return None
    national = _strip_national_prefix(national, meta)
    if national is None or not MIN_NSN <= len(national) <= MAX_NSN or not _valid(code, national):
        return None
    return f"+{code}{national}"
