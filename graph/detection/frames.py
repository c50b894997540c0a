"""Column operations that stay fast on millions of rows of string ids.

pandas' Arrow-backed string columns convert a large ``isin`` set one value at a time, and
``Series.map`` through a table looks every row up again; these helpers do the same work in
Arrow, or once per distinct value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def is_in(column: pd.Series, wanted) -> np.ndarray:
    """``column.isin(wanted)`` as a boolean array."""
    values = wanted if isinstance(wanted, (pd.Series, pd.Index, np.ndarray)) else list(wanted)
    try:
        col = pa.array(column, from_pandas=True)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_integer(col.type)):
            raise TypeError(col.type)
        value_set = pa.array(values, from_pandas=True)
        if len(value_set) and value_set.type != col.type:
            value_set = value_set.cast(col.type)
        return pc.is_in(col, value_set=value_set).to_numpy(zero_copy_only=False).astype(bool)
    except (pa.ArrowException, TypeError, ValueError):
        return column.isin(values).to_numpy(dtype=bool)


def map_values(column: pd.Series, table: pd.Series) -> pd.Series:
    """``column.map(table)``, looking each distinct value of the column up once (``table`` has a unique index)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    looked = table.reindex(uniques).array
    return pd.Series(looked.take(codes, allow_fill=True), index=column.index, name=column.name)


def runs_of(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """Sorted keys and their values -> one list of values per key, in order (a fast ``groupby(...).agg(list)``)."""
    if not len(keys):
        return pd.Series(dtype=object)
    starts = np.flatnonzero(run_starts(keys))
    ends = np.r_[starts[1:], len(keys)]
    return pd.Series([values[s:e].tolist() for s, e in zip(starts, ends)], index=keys[starts])


def run_starts(*columns: np.ndarray) -> np.ndarray:
    """True where sorted rows begin a new value of these columns."""
    change = np.zeros(len(columns[0]), dtype=bool)
    change[:1] = True
    for col in columns:
        change[1:] |= col[1:] != col[:-1]
    return change
