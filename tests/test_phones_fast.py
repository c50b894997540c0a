"""The fast path for plain phone shapes gives exactly what phonenumbers gives, or steps aside."""

import random

import pandas as pd
import phonenumbers as pn
import pyarrow as pa
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from ringwatch.ingest.normalise import normalise_phone_checked
from ringwatch.ingest.normalise_columns import normalise_phone_series_checked
from ringwatch.ingest.phones import quick_e164
from ringwatch.ingest.phones_column import quick_e164_column

TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
         PhoneNumberType.VOICEMAIL]
REGIONS = sorted(pn.SUPPORTED_REGIONS)


def _library(text: str, region: str | None) -> str | None:
    """E.164 when phonenumbers parses the text and calls it valid, else None."""
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException:
        return None
    return pn.format_number(number, PhoneNumberFormat.E164) if pn.is_valid_number(number) else None


def _mutated(rng: random.Random, text: str) -> str:
    """The same written form with a few digits changed, one added or one dropped."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(chars))
        if chars[at].isdigit():
            chars[at] = str(rng.randrange(10))
    text, roll = "".join(chars), rng.random()
    if roll < 0.15:
        return text + str(rng.randrange(10))
    return text[:-1] if roll < 0.3 and len(text) > 4 else text


def _corpus(seed: int, idd: bool = False):
    """Example numbers of every region and type in four written forms, read with several regions, mutated;
    with ``idd``, also written internationally with 00 for the +, as much of Europe writes them."""
    rng = random.Random(seed)
    for region in REGIONS:
        for kind in TYPES:
            example = pn.example_number_for_type(region, kind)
            if example is None:
                continue
            forms = [pn.format_number(example, f) for f in
                     (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL)]
            forms.append(pn.national_significant_number(example))
            if idd:
                forms += [forms[0].replace("+", "00"), forms[1].replace("+", "00"), forms[1].replace("+", "000")]
            for form in forms:
                for reading in (region, rng.choice(REGIONS), None):
                    yield form, reading
                    yield _mutated(rng, form), reading


@pytest.mark.parametrize("seed", [0, 1])
def test_the_fast_path_agrees_with_phonenumbers_on_every_region_and_type(seed):
    answered = agreed_valid = 0
    for text, region in _corpus(seed):
        quick = quick_e164(text, region)
        if quick is not None:
            answered += 1
            assert quick == _library(text, region), (text, region)
        elif _library(text, region) is not None:
            agreed_valid += 1
    # It must carry most valid numbers, or it saves nothing.
    assert answered > 5 * agreed_valid


@pytest.mark.parametrize("text, region", [
    ("+44 (0) 20 7946 0000", "GB"),   # a bracketed national prefix: left to the library
    ("011 44 20 7946 0000", "US"),    # an international prefix written as digits
    ("0044 20 7946 0000", "GB"),
    ("+800 1234 5678", None),         # a non-geographic code
    ("+0 1234 5678", None),           # no country code begins with 0
    ("441234567890", "GB"),           # national digits that start with the country code
    ("tel:+1-212-555-0123", None),
    ("+1 212 555 0123 ext. 4", None),
    ("２１２５５５０１２３", "US"),      # digits of another script
])
def test_shapes_the_fast_path_leaves_to_the_library(text, region):
    assert quick_e164(text, region) is None


@pytest.mark.parametrize("text, region, expected", [
    ("+44 20 7946 0958", None, "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("(212) 111-0123", "US", None),     # no exchange starts with 1: not valid, so not answered
    ("+1 999 555 0123", None, None),    # nor does any area code start with 99
    ("(201) 555-0123", "US", "+12015550123"),
    ("030 12345678", "DE", "+493012345678"),
    ("+39 06 6982 1234", None, "+390669821234"),  # Italy keeps its leading zero
])
def test_plain_shapes_read_as_the_library_reads_them(text, region, expected):
    assert quick_e164(text, region) == expected
    if expected is not None:
        assert normalise_phone_checked(text, region) == (expected, True)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_column_path_gives_what_the_scalar_rule_gives_where_it_answers(seed):
    pairs = list(_corpus(seed, idd=True))
    found = quick_e164_column(pa.array([t for t, _ in pairs], type=pa.string()),
                              pa.array([r for _, r in pairs], type=pa.string())).to_pylist()
    answered = [(pair, phone) for pair, phone in zip(pairs, found) if phone is not None]
    for (text, region), phone in answered:
        assert normalise_phone_checked(text, region) == (phone, True), (text, region)
    # It must carry most of what the scalar fast path carries, or it saves nothing; numbers written with 00 too.
    quick = sum(quick_e164(text, region) is not None for text, region in pairs)
    assert len(answered) > 0.6 * quick
    assert sum(text.startswith("00") for (text, _), _ in answered) > 0.2 * len(answered)


def test_whole_columns_match_the_scalar_rule():
    pairs = list(_corpus(2, idd=True))
    values = pd.Series([t for t, _ in pairs], dtype="str")
    regions = pd.Series([r for _, r in pairs], dtype="str")
    phones, validated = normalise_phone_series_checked(values, regions)
    expected = [normalise_phone_checked(t, r) for t, r in pairs]
    assert [None if pd.isna(p) else p for p in phones] == [p for p, _ in expected]
    assert validated.tolist() == [v for _, v in expected]
