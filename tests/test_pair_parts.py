"""Pair evidence in parts: the embedded engine groups pairs a range of accounts at a time, and
detection judges each part as it arrives; the evidence and the links are those of one pass."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.detection.coregistration import signup_runs
from ringwatch.graph.detection.linking import (
    link_policy,
    linked_pairs,
    pair_evidence,
    strong_links,
)
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.engines import open_engine
from ringwatch.graph.engines.embedded import engine as embedded
from scenario_store import scenario_store
from test_pools import pool_world


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo scenario's store: rings, co-activity, co-registration and large shared values."""
    return scenario_store(tmp_path_factory.mktemp("parts"), accounts=1500, seed=3)


def _parts(db, rows: int | None):
    """The pair evidence of the store at ``db`` in parts of about ``rows`` joined rows (None: the default)."""
    params = DetectionParams()
    with open_engine("embedded", db) as eng:
        if rows is not None:
            eng.pair_part_rows = rows
        policy = link_policy(eng, params, len(eng.accounts()))
        return list(eng.pair_evidence_parts(policy))


def test_parts_hold_the_evidence_of_one_pass_in_ranges_of_a(demo):
    (whole,) = _parts(demo, None)
    parts = _parts(demo, 2_000)
    assert len(parts) >= 5
    # Ascending ranges covering every account number, each part's pairs inside its range.
    assert parts[0][0] == 0 and parts[-1][1] == whole[1] == embedded.ACCOUNT_NUMBERS
    assert all(hi == next_lo for (_, hi, _), (next_lo, _, _) in pairwise(parts))
    for lo, hi, rows in parts:
        assert rows["a"].between(lo, hi - 1).all()
    joined = pd.concat([rows for _, _, rows in parts], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole[2])
    assert whole[2]["family"].nunique() >= 4


def test_part_ranges_keep_to_the_rows_asked_where_they_can():
    starts = np.array([0, 10, 20, 50, 60])
    rows = np.array([40, 70, 10, 500, 5])
    ranges = list(embedded._parts(starts, rows, 100))
    # 40 | 70 + 10 | 500 (more than asked, alone) | 5, cut only where a run of account numbers starts.
    assert ranges == [(0, 10), (10, 50), (50, 60), (60, embedded.ACCOUNT_NUMBERS)]
    assert list(embedded._parts(np.array([], int), np.array([], int), 100)) == [(0, embedded.ACCOUNT_NUMBERS)]


def _both_ways(eng, params, accounts):
    """The links judged part by part with parts of a few hundred rows, and from the whole evidence at once."""
    ids = accounts["account_id"].to_numpy()
    runs = signup_runs(accounts, params)
    evidence, policy = pair_evidence(eng, params, len(accounts), runs, ids)
    whole = strong_links(evidence, params, policy)
    eng.pair_part_rows = 300
    parted, _ = linked_pairs(eng, params, len(accounts), runs, ids)
    return evidence, whole, parted


def test_links_judged_part_by_part_are_the_links_of_one_pass(demo):
    params = DetectionParams()
    with open_engine("embedded", demo) as eng:
        accounts = eng.accounts()
        evidence, whole, parted = _both_ways(eng, params, accounts)
    # Pairs linked by co-activity alone (no identifier row in any part) and pool pairs are among them.
    held = evidence.assign(family=evidence["family"].astype(str)).groupby(["a", "b"])["family"].agg(frozenset)
    assert (held == frozenset({"coactivity"})).sum() >= 3
    assert held.map(lambda kinds: "pool_activity" in kinds).sum() >= 3 and len(whole) > 500
    pd.testing.assert_frame_equal(parted, whole)


def test_pool_pairs_are_judged_with_every_row_they_have(tmp_path):
    # The ring's pairs link only through pool timing, scored after the last part.
    params = DetectionParams()
    with pool_world(tmp_path) as eng:
        evidence, whole, parted = _both_ways(eng, params, eng.accounts())
    assert "pool_activity" in set(evidence["family"].astype(str)) and len(whole) == 28
    pd.testing.assert_frame_equal(parted, whole)
