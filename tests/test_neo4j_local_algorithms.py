"""A Neo4j server without Graph Data Science: the algorithms run in this process and give the embedded engine's groups.

``local.LocalRunner`` answers the three GDS calls the Neo4j engine makes; these tests run the
engine's own GDS code (``neo4j.gds``) on top of it and compare with the embedded engine on
the same strong links and the same usage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.detection.similarity import similarity_policy
from ringwatch.graph.engines import inprocess, open_engine
from ringwatch.graph.engines.neo4j import gds
from ringwatch.graph.engines.neo4j.local import LocalRunner
from ringwatch.graph.engines.policy import BUCKET_ORIGIN, SimilarityPolicy
from scenario_store import scenario_store


def _edges(seed: int, n: int = 400, m: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    return pd.DataFrame({"a": np.minimum(a, b)[keep], "b": np.maximum(a, b)[keep],
                         "weight": rng.uniform(0.5, 3.0, keep.sum())}).drop_duplicates(["a", "b"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_and_communities_are_the_embedded_engines(seed):
    edges = _edges(seed)
    pd.testing.assert_frame_equal(gds.components(LocalRunner(), edges), inprocess.components(edges))
    local, local_q = gds.communities(LocalRunner(), edges, seed, 1.0)
    embedded, embedded_q = inprocess.communities(edges, seed, 1.0)
    pd.testing.assert_frame_equal(local, embedded)
    assert local_q == pytest.approx(embedded_q, abs=1e-9)
    assert local["group"].nunique() > 3


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return scenario_store(tmp_path_factory.mktemp("local"), accounts=1500, seed=4)


def _activity(engine, policy) -> pd.DataFrame:
    """What the Neo4j engine reads from its server (``queries.SIMILARITY_ACTIVITY``): idx, fp, slot, weight."""
    numbers = engine.account_numbers()
    usage = engine.con.execute("SELECT account_id, ts, prompt_fingerprint, requests FROM usage "
                               "WHERE prompt_fingerprint IS NOT NULL").df()
    users = usage.groupby("prompt_fingerprint")["account_id"].nunique()
    usage = usage[usage["prompt_fingerprint"].map(users) <= policy.max_template_accounts]
    width = pd.Timedelta(minutes=policy.bucket_minutes)
    slot = ((pd.to_datetime(usage["ts"]) - BUCKET_ORIGIN) // width).astype("Int64")
    act = pd.DataFrame({"idx": usage["account_id"].map(numbers).to_numpy(), "fp": usage["prompt_fingerprint"],
                        "slot": slot, "weight": usage["requests"].astype(float)})
    return act.groupby(["idx", "fp", "slot"], dropna=False, as_index=False)["weight"].sum()


@pytest.mark.parametrize("policy", [
    similarity_policy(DetectionParams()),
    SimilarityPolicy(bucket_minutes=60, max_template_accounts=300, top_k=5, cutoff=0.02, degree_cutoff=2),
], ids=["detection's", "wider"])
def test_similarity_is_the_embedded_engines(store, policy):
    with open_engine("embedded", store) as engine:
        expected = engine.node_similarity(policy)
        act = _activity(engine, policy)
    found = gds.node_similarity(LocalRunner(), act, policy)
    assert len(expected) > 20
    pd.testing.assert_frame_equal(found[["a", "b", "common"]].reset_index(drop=True),
                                  expected[["a", "b", "common"]].astype(found[["a", "b", "common"]].dtypes)
                                  .reset_index(drop=True))
    np.testing.assert_allclose(found["similarity"].to_numpy(), expected["similarity"].to_numpy(), rtol=1e-12)


def test_similarity_runs_under_ringwatchs_memory_limit(store, monkeypatch):
    policy = similarity_policy(DetectionParams())
    with open_engine("embedded", store) as engine:
        act = _activity(engine, policy)
    monkeypatch.setenv("RINGWATCH_MEMORY_LIMIT", "plenty")
    with pytest.raises(ValueError, match="RINGWATCH_MEMORY_LIMIT must be a size"):
        gds.node_similarity(LocalRunner(), act, policy)


def test_account_numbers_held_as_objects_keep_their_numeric_order():
    """Strong links can carry account numbers as Python ints in an object column; groups stay named by number."""
    edges = _edges(5).astype({"a": object, "b": object})
    found = gds.components(LocalRunner(), edges)
    pd.testing.assert_frame_equal(found, inprocess.components(edges))
    assert all(isinstance(g, int | np.integer) for g in found["group"])
