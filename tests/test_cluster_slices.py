"""Clusters scored in slices: detection holds one slice of clustered accounts at a time (and the
ring candidates), and finds the same rings, scores, reasons and evidence as in one pass."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from ringwatch.graph.detection.pipeline import cluster_slices, detect
from ringwatch.graph.engines import open_engine
from scenario_store import scenario_store

TABLES = ("accounts", "rings", "ring_evidence")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo scenario at 3,000 accounts (seed 1): flagged and unflagged clusters, and fragments consolidation joins."""
    return scenario_store(tmp_path_factory.mktemp("slices"), accounts=3000, seed=1)


def _detected(store, folder, monkeypatch, slice_accounts: int | None) -> dict[str, pd.DataFrame]:
    copy = folder / f"slice-{slice_accounts}.duckdb"
    shutil.copy(store, copy)
    if slice_accounts is None:
        monkeypatch.delenv("RINGWATCH_CLUSTER_SLICE", raising=False)
    else:
        monkeypatch.setenv("RINGWATCH_CLUSTER_SLICE", str(slice_accounts))
    with open_engine("embedded", copy) as engine:
        detect(engine)
        return {name: engine.results(name) for name in TABLES}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_clusters_one_per_slice_give_the_results_of_one_pass(store, tmp_path, monkeypatch):
    whole = _detected(store, tmp_path, monkeypatch, None)
    sliced = _detected(store, tmp_path, monkeypatch, 1)
    rings = whole["rings"]
    # What the comparison covers: rings and clusters that are not, and a ring consolidation
    # joined from fragments that, one cluster per slice, were scored in different slices.
    assert rings["flagged"].any() and (~rings["flagged"]).any()
    assert rings["explanation"].str.contains("joined from").any()
    for name in TABLES:
        pd.testing.assert_frame_equal(_sorted(sliced[name]), _sorted(whole[name]), obj=name)


def test_slices_hold_whole_clusters_in_key_order_up_to_the_size_asked():
    sizes = {"c1": 3, "c2": 4, "c3": 10, "c4": 2, "c5": 2}
    members = pd.DataFrame([(f"{c}-{i}", c) for c, n in sizes.items() for i in range(n)],
                           columns=["account_id", "cluster"]).sample(frac=1, random_state=0)
    slices = cluster_slices(members, 8)
    # 3 + 4 | 10 (more than asked: alone) | 2 + 2.
    assert [sorted(s["cluster"].unique()) for s in slices] == [["c1", "c2"], ["c3"], ["c4", "c5"]]
    assert sum(len(s) for s in slices) == len(members)
    assert all(s["account_id"].is_unique for s in slices)
    (empty,) = cluster_slices(members.iloc[:0], 8)
    assert empty.empty
