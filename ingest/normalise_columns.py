"""The normalisers of ``normalise`` applied to whole columns.

Each ``*_series`` function runs the scalar normaliser once per distinct value of a column
and broadcasts the results back, which is what makes million-row columns fast (identifier
columns repeat a lot, and pandas' factorize is C-speed).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .normalise import (
    normalise_country,
    normalise_email,
    normalise_ip,
    normalise_phone_checked,
    normalise_text_id,
)
from .phones_column import quick_e164_column
from .plain_values import (
    ONE_DIGIT_REPEATED,
    PLACEHOLDER_TEXTS,
    ipv4_networks,
    plain_emails,
    plain_ipv4,
    plain_text_ids,
    text_array,
)

# A cache maps raw value -> normalised result across the chunks of one ingest call, since
# the same IPs and account_ids recur chunk after chunk. Past this many entries it stops
# growing (memory stays bounded; the values seen first are usually the common ones).
CACHE_LIMIT = 500_000
_MISS = object()


def _apply(keys: list, func: Callable, cache: dict | None) -> list:
    if cache is None:
        return [func(k) for k in keys]
    get = cache.get
    results = [get(k, _MISS) for k in keys]
    room = CACHE_LIMIT - len(cache)
    for i, result in enumerate(results):
        if result is _MISS:
            result = results[i] = func(keys[i])
            if room > 0:
                cache[keys[i]] = result
                room -= 1
    return results


def _broadcast(results: list, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """str Series with results[code] per row; code -1 (missing) gives null."""
    # Arrow's take is several times faster than building a str column from objects.
    table = pa.array(results + [None], type=pa.string())
    taken = table.take(pa.array(np.where(codes < 0, len(results), codes)))
    return pd.Series(pd.array(taken, dtype="str"), index=index)


def map_unique(values: pd.Series, func: Callable[[object], str | None],
               cache: dict | None = None) -> pd.Series:
    """Apply `func` once per distinct value of `values` and broadcast back (str Series)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _broadcast(_apply(uniques.tolist(), func, cache), codes, values.index)


def _distinct(values: pd.Series) -> tuple[pa.Array, pa.Array] | None:
    """(distinct values, each row's index into them, null where missing) of a text column, or None."""
    text = text_array(values)
    if text is None:
        return None
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text)
    return encoded.dictionary, encoded.indices


def _per_row(distinct: pa.Array, indices: pa.Array, plain: np.ndarray, kept: list, func: Callable,
             cache: dict | None, index: pd.Index) -> list[pd.Series]:
    """One str Series per output: ``kept[i]`` for the distinct values that are ``plain``, ``func``'s
    result (the i-th item when ``kept`` has several) for the others, broadcast to the rows."""
    rest = np.flatnonzero(~plain)
    results = _apply(distinct.take(pa.array(rest)).to_pylist(), func, cache) if len(rest) else []
    where = np.full(len(distinct), len(rest), dtype=np.int64)  # len(rest): the null appended below
    where[rest] = np.arange(len(rest))
    where, plain = pa.array(where), pa.array(plain)
    out = []
    for i, normal in enumerate(kept):
        got = results if len(kept) == 1 else [r[i] for r in results]
        scalar = pa.array(got + [None], type=pa.string()).take(where)
        out.append(pd.Series(pd.array(pc.if_else(plain, normal, scalar).take(indices), dtype="str"), index=index))
    return out


def map_unique_pair(
    values: pd.Series, func: Callable[[object], tuple[str | None, str | None]],
    cache: dict | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Like map_unique for a function returning two values; returns two Series."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    pairs = _apply(uniques.tolist(), func, cache)
    return (_broadcast([p[0] for p in pairs], codes, values.index),
            _broadcast([p[1] for p in pairs], codes, values.index))


def normalise_email_series(values: pd.Series, cache: dict | None = None
                           ) -> tuple[pd.Series, pd.Series]:
    """Vectorised normalise_email: (address Series, domain Series).

    Works on the column's distinct values: plain ASCII addresses are canonicalised in Arrow
    (``plain_values``), the rest goes through ``normalise_email``.
    """
    found = _distinct(values)
    if found is None:
        return map_unique_pair(values, normalise_email, cache)
    distinct, indices = found
    plain, address, domain = plain_emails(distinct)
    return tuple(_per_row(distinct, indices, plain, [address, domain], normalise_email, cache, values.index))


def normalise_ip_series(values: pd.Series, cache: dict | None = None
                        ) -> tuple[pd.Series, pd.Series]:
    """Vectorised normalise_ip: (ip Series, network Series).

    Works on the column's distinct values: clean dotted-quad addresses are recognised in Arrow
    (``plain_values``); only the rest (v6, padded, special or broken text) goes through ``normalise_ip``.
    """
    found = _distinct(values)
    if found is None:
        return map_unique_pair(values, normalise_ip, cache)
    distinct, indices = found
    kept = [distinct, ipv4_networks(distinct)]
    return tuple(_per_row(distinct, indices, plain_ipv4(distinct), kept, normalise_ip, cache, values.index))


def normalise_text_id_series(values: pd.Series, cache: dict | None = None) -> pd.Series:
    """Vectorised normalise_text_id: plain values kept as they are (``plain_values``), the rest through it."""
    found = _distinct(values)
    if found is None:
        return map_unique(values, normalise_text_id, cache)
    distinct, indices = found
    return _per_row(distinct, indices, plain_text_ids(distinct), [distinct], normalise_text_id, cache, values.index)[0]


def normalise_country_series(values: pd.Series, cache: dict | None = None) -> pd.Series:
    """Vectorised normalise_country."""
    return map_unique(values, normalise_country, cache)


def _quick_column(values, value_at: np.ndarray, regions: list, region_at: np.ndarray) -> np.ndarray:
    """``quick_e164_column`` on the pairs (values[value_at[i]], regions[region_at[i]]): per pair the E.164
    text, or None (to ask the scalar rule). A placeholder number is None too, as ``placeholder_e164`` finds it."""
    try:
        texts = pa.array(values, type=pa.string()).take(pa.array(value_at))
        where = pa.array(regions, type=pa.string()).take(pa.array(region_at))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return np.full(len(value_at), None, dtype=object)  # values that are not text: the scalar rule says what they are
    found = quick_e164_column(texts, where)
    placeholder = pc.or_(pc.is_in(found, value_set=PLACEHOLDER_TEXTS),
                         pc.match_substring_regex(pc.utf8_slice_codeunits(found, 1), ONE_DIGIT_REPEATED))
    found = pc.if_else(pc.fill_null(placeholder, False), pa.scalar(None, pa.string()), found)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=object)


def _phone_pair(pair: tuple[object, object]) -> tuple[str | None, bool]:
    return normalise_phone_checked(*pair)


def normalise_phone_series(values: pd.Series, regions: pd.Series | None = None,
                           cache: dict | None = None) -> pd.Series:
    """Vectorised normalise_phone; `regions` (aligned with `values`) gives each row's region."""
    return normalise_phone_series_checked(values, regions, cache)[0]


def normalise_phone_series_checked(values: pd.Series, regions: pd.Series | None = None,
                                   cache: dict | None = None) -> tuple[pd.Series, np.ndarray]:
    """Vectorised normalise_phone_checked: (phones, validated mask)."""
    if regions is None:
        regions = pd.Series(None, index=values.index, dtype="str")
    value_codes, value_uniques = pd.factorize(values, use_na_sentinel=True)
    region_codes, region_uniques = pd.factorize(regions, use_na_sentinel=True)
    region_list = region_uniques.tolist() + [None]  # index -1 is a missing region
    # One code per distinct (value, region) pair; the region is irrelevant to a missing value.
    width = len(region_list)
    pair_codes = np.where(value_codes < 0, -1,
                          value_codes.astype(np.int64) * width + (region_codes % width))
    codes, pairs = pd.factorize(pair_codes, use_na_sentinel=False)
    pairs = np.asarray(pairs)
    at = np.flatnonzero(pairs >= 0)  # pair code -1 (missing value) stays None
    value_at, region_at = pairs[at] // width, pairs[at] % width
    results = np.full(len(pairs), None, dtype=object)
    validated = np.zeros(len(pairs) + 1, dtype=bool)
    # The plain shapes in Arrow, a region at a time; the rest (and what that leaves open) one by one.
    quick = _quick_column(value_uniques, value_at, region_list, region_at)
    answered = pd.notna(quick)
    results[at[answered]], validated[at[answered]] = quick[answered], True
    open_ = ~answered
    keys = list(zip(value_uniques.take(value_at[open_]).tolist(),
                    [region_list[r] for r in region_at[open_].tolist()]))
    for i, (phone, valid) in zip(at[open_].tolist(), _apply(keys, _phone_pair, cache)):
        results[i], validated[i] = phone, valid
    return _broadcast(results.tolist(), codes, values.index), validated[np.where(codes < 0, len(pairs), codes)]
