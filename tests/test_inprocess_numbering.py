"""The in-process graph algorithms number accounts as sorting their ids would, whichever way they count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.engines import inprocess


def _by_sorting(edges: pd.DataFrame):
    ends = np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()])
    ids, inverse = np.unique(ends, return_inverse=True)
    return ids, inverse[:len(edges)], inverse[len(edges):]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32])
@pytest.mark.parametrize("high", [40, 3_000_000_000])  # account numbers; numbers too sparse for a table
def test_account_numbers_are_numbered_as_sorted(dtype, high):
    rng = np.random.default_rng(7)
    high = min(high, np.iinfo(dtype).max)
    edges = pd.DataFrame({"a": rng.integers(0, high, 300).astype(dtype), "b": rng.integers(0, high, 300).astype(dtype)})
    got, want = inprocess.numbered(edges), _by_sorting(edges)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    # Positions name the ends: every edge comes back as it went in.
    np.testing.assert_array_equal(got[0][got[1]], edges["a"].to_numpy())
    np.testing.assert_array_equal(got[0][got[2]], edges["b"].to_numpy())


def test_named_accounts_are_numbered_as_sorted():
    edges = pd.DataFrame({"a": ["acc-9", "acc-1", "acc-5"], "b": ["acc-1", "acc-10", "acc-9"]})
    ids, a, b = inprocess.numbered(edges)
    assert list(ids) == ["acc-1", "acc-10", "acc-5", "acc-9"]
    assert list(ids[a]) == list(edges["a"]) and list(ids[b]) == list(edges["b"])


def test_components_of_account_numbers_are_named_after_their_smallest_member():
    edges = pd.DataFrame({"a": [7, 3, 100], "b": [3, 5, 101], "weight": [1.0, 1.0, 1.0]}, dtype="int64")
    groups = inprocess.components(edges)
    assert dict(zip(groups["account_id"], groups["group"])) == {3: 3, 5: 3, 7: 3, 100: 100, 101: 100}


def _groups_by_pandas(ids, membership) -> pd.DataFrame:
    frame = pd.DataFrame({"account_id": ids, "raw": membership})
    frame["group"] = frame.groupby("raw")["account_id"].transform("min")
    return frame[["account_id", "group"]].sort_values(["group", "account_id"]).reset_index(drop=True)


@pytest.mark.parametrize("named", [False, True])
def test_groups_are_named_after_their_smallest_member_and_ordered_by_group_then_account(named):
    rng = np.random.default_rng(3)
    ids = np.unique(rng.integers(0, 10_000, 400))
    if named:
        ids = np.array(sorted(f"acc-{i}" for i in ids), dtype=object)
    membership = rng.integers(0, 1_000_000, 30)[rng.integers(0, 30, len(ids))]  # algorithm labels, any numbers
    got = inprocess.groups(ids, membership)
    pd.testing.assert_frame_equal(got, _groups_by_pandas(ids, membership))
    assert got["group"].nunique() == len(np.unique(membership))
