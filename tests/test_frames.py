"""The fast column helpers give exactly what the pandas operations they replace give."""

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.detection.frames import is_in, map_values, runs_of


@pytest.mark.parametrize("column, wanted", [
    (pd.Series(["a", "b", None, "c", "a"], dtype="str"), ["a", "c", "zz"]),
    (pd.Series(["a", "b", None], dtype="str"), pd.Index(["b"])),
    (pd.Series(["a", "b"], dtype="str"), set()),
    (pd.Series([3, 1, 2, 3], dtype="int32"), np.array([3, 7])),
    (pd.Series([1.5, np.nan, 2.0]), [2.0]),
    (pd.Series(["x", 1, None], dtype=object), ["x", 1]),
])
def test_is_in_agrees_with_pandas(column, wanted):
    assert is_in(column, wanted).tolist() == column.isin(list(wanted)).tolist()


def test_map_values_agrees_with_pandas_for_numbers_strings_and_missing_keys():
    column = pd.Series(["r1", "r2", None, "r9", "r1"], dtype="str", index=[10, 11, 12, 13, 14])
    sizes = pd.Series([5, 7], index=["r1", "r2"])
    names = pd.Series(["ring one", "ring two"], index=["r1", "r2"], dtype="str")
    pd.testing.assert_series_equal(map_values(column, sizes), column.map(sizes))
    pd.testing.assert_series_equal(map_values(column, names), column.map(names))
    assert map_values(pd.Series([], dtype="str"), sizes).empty


def test_runs_of_lists_each_keys_values_in_order():
    out = runs_of(np.array(["a", "a", "b", "c", "c", "c"], dtype=object), np.array([1, 2, 3, 4, 5, 6]))
    assert out.to_dict() == {"a": [1, 2], "b": [3], "c": [4, 5, 6]}
    assert runs_of(np.array([]), np.array([])).empty
