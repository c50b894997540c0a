"""The engine contract: every engine answers these primitives identically.

Written once, run on every engine: the embedded engine, the throwaway in-memory engine of
``tests/memory_engine`` (nothing but the seam's primitives) and, with a live server, Neo4j.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_params import NEO4J, NEO4J_GDS, SPARK, engine_name
from ringwatch.graph.engines import (
    EngineError,
    LinkPolicy,
    NotSupported,
    SimilarityPolicy,
    open_engine,
)
from ringwatch.graph.engines.base import keys_frame
from ringwatch.graph.engines.columns import LEDGERS
from ringwatch.graph.reports.views import neighbourhood

ENGINES = ["embedded", "memory", NEO4J, SPARK]
WITH_GDS = [*ENGINES, NEO4J_GDS]  # for tests that run an algorithm
T0 = pd.Timestamp("2026-11-01")
ACCOUNT_COLS = ["account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net", "device_id",
                "user_agent", "payment_id", "country", "org_id", "attributes"]


def _accounts(ids, **cols):
    frame = pd.DataFrame({"account_id": ids})
    for c in ACCOUNT_COLS[1:]:
        frame[c] = cols.get(c, [None] * len(ids))
    frame["created_at"] = [T0 + pd.Timedelta(hours=i) for i in range(len(ids))]
    return frame


def _ids(rows):
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def _usage(rows):
    cols = ["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens", "output_tokens", "requests",
            "user_agent"]
    return pd.DataFrame([dict(zip(["account_id", "ts", "prompt_fingerprint", "requests"], r)) for r in rows]).reindex(
        columns=cols).assign(input_tokens=10, output_tokens=20)


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path, monkeypatch):
    if request.param == "memory":
        request.getfixturevalue("memory_engine")
    # A server that was asked for (NEO4J_URI) but is down makes open_engine raise: the test fails.
    with open_engine(engine_name(request.param, monkeypatch), tmp_path / "contract.duckdb") as eng:
        eng.clear_store()  # a shared server: every test starts from an empty store
        yield eng


@pytest.fixture
def loaded(engine):
    ids = [f"a{i}" for i in range(6)]
    engine.load_accounts(_accounts(ids), _ids([
        ("a0", "payment", "card1"), ("a1", "payment", "card1"), ("a2", "payment", "card1"),
        ("a0", "device", "d1"), ("a1", "device", "d1"),
        ("a3", "ip", "hub"), ("a4", "ip", "hub"), ("a5", "ip", "hub"), ("a0", "ip", "hub"),
    ]))
    return engine


def test_reloading_the_same_accounts_changes_nothing(loaded):
    again = loaded.load_accounts(_accounts(["a0", "a1", "a9"]), _ids([("a9", "device", "d1"), ("a0", "device", "zz")]))
    assert (again.loaded, again.duplicates) == (1, 2)
    counts = loaded.counts()
    assert counts["accounts"] == 7
    # a0's second copy is a duplicate: its new identifier is not stored.
    assert counts["identifiers"] == 10


def test_accounts_by_id_return_only_those_rows_in_id_order(loaded):
    everyone = loaded.accounts()
    some = loaded.accounts(["a4", "a1", "nobody", "a1"])
    assert list(some["account_id"]) == ["a1", "a4"]
    expected = everyone[everyone["account_id"].isin(["a1", "a4"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(some.reset_index(drop=True)[list(expected.columns)], expected, check_dtype=False)
    assert loaded.accounts([]).empty
    slim = loaded.accounts(["a4", "a1"], columns=["created_at"])
    assert list(slim.columns) == ["account_id", "created_at"]
    pd.testing.assert_frame_equal(slim, expected[["account_id", "created_at"]], check_dtype=False)
    with pytest.raises(EngineError, match="unknown account columns"):
        loaded.accounts(columns=["created_at; DROP TABLE accounts"])


def test_identifier_degrees_count_accounts_per_value(loaded):
    deg = loaded.identifier_degrees().set_index(["kind", "value"])["accounts"]
    assert deg[("payment", "card1")] == 3
    assert deg[("ip", "hub")] == 4
    assert deg[("device", "d1")] == 2
    assert loaded.identifier_degrees(min_accounts=4)["value"].tolist() == ["hub"]
    some = loaded.value_degrees(pd.DataFrame({"kind": ["device", "device"], "value": ["d1", "none"]}))
    assert some.set_index("value")["accounts"].to_dict() == {"d1": 2, "none": 0}
    assert loaded.identifier_kinds() == ["device", "ip", "payment"]


def test_degree_histogram_counts_values_per_number_of_holders(loaded):
    deg = loaded.identifier_degrees(min_accounts=1)
    hist = loaded.degree_histogram()
    assert list(hist.columns) == ["kind", "accounts", "values"]
    counted = deg.groupby(["kind", "accounts"]).size()
    assert hist.set_index(["kind", "accounts"])["values"].to_dict() == counted.to_dict()
    assert hist.set_index(["kind", "accounts"]).loc[("payment", 3), "values"] == 1


def test_member_slices_give_each_slice_what_the_single_reads_give(loaded):
    hour = pd.Timedelta(hours=1)
    loaded.load_usage(_usage([("a0", T0, "t1", 2), ("a0", T0 + hour / 4, "t1", 1), ("a0", T0 + 3 * hour, "t2", 4),
                              ("a3", T0, "t1", 5), ("a5", T0, "t1", 7)]))
    slices = [["a3", "a0"], [], ["a1", "nobody"], ["a5"]]
    got = list(loaded.member_slices(slices, 60))
    assert len(got) == len(slices)
    rows = lambda frame: frame.sort_values(list(frame.columns)).reset_index(drop=True)
    for ids, (acc, held, degrees, activity) in zip(slices, got):
        pd.testing.assert_frame_equal(acc, loaded.accounts(ids), check_dtype=False)
        pd.testing.assert_frame_equal(held, loaded.account_identifiers(ids), check_dtype=False)
        pd.testing.assert_frame_equal(rows(degrees), rows(loaded.value_degrees(held)), check_dtype=False)
        if not ids:
            assert activity is None and acc.empty and held.empty
            continue
        pd.testing.assert_frame_equal(rows(activity), rows(loaded.member_usage(ids, 60)), check_dtype=False)
    assert got[0][2].set_index("value")["accounts"].to_dict() == {"card1": 3, "d1": 2, "hub": 4}
    assert got[0][3].groupby("account_id")["requests"].sum().to_dict() == {"a0": 7, "a3": 5}
    assert len(got[0][3]) == 3  # a0's two t1 rows share an hour


KINDS = pd.DataFrame({"kind": ["payment", "device", "ip", "prompt", "request_ip"],
                      "family": ["payment", "device", "network", "behaviour", "network"],
                      "weight": [1.0, 1.0, 0.5, 0.5, 0.5], "alone": [np.nan, np.nan, np.nan, 99.0, np.nan]})


def _evidence(engine, **kw):
    args = {"kinds": KINDS, "hub_cap": 3, "pair_cap": 10, "anchors": 1, "total_accounts": 100, "min_total": 0.0} | kw
    return engine.pair_evidence(LinkPolicy(**args))


def _similarity(engine, bucket_minutes, max_degree, top_k, similarity_cutoff, degree_cutoff):
    return engine.node_similarity(SimilarityPolicy(bucket_minutes=bucket_minutes, max_template_accounts=max_degree,
                                                   top_k=top_k, cutoff=similarity_cutoff, degree_cutoff=degree_cutoff))


def test_pair_evidence_sums_rarity_per_family_and_skips_hubs(loaded):
    ev = _evidence(loaded)
    assert (ev["a"] < ev["b"]).all()
    assert "network" not in set(ev["family"])  # the IP is shared by 4 accounts: a hub at cap 3
    pay = ev[ev["family"] == "payment"]
    # accounts are numbered by position in id order: a0..a5 -> 0..5
    assert set(zip(pay["a"], pay["b"])) == {(0, 1), (0, 2), (1, 2)}
    idf3 = np.log(100 / 3) / np.log(50)
    assert pay["score"].to_numpy() == pytest.approx([idf3] * 3)
    dev = ev[ev["family"] == "device"].iloc[0]
    assert (dev["a"], dev["b"], dev["score"]) == (0, 1, pytest.approx(1.0))
    # min_total keeps only pairs whose capped family scores add up
    strong = _evidence(loaded, min_total=1.5)
    assert set(zip(strong["a"], strong["b"])) == {(0, 1)}


def test_keep_score_returns_pairs_with_one_family_worth_that_much(loaded):
    # a0-a1 share card and device (payment ~0.77, device 1.0); every other pair shares the card only.
    kept = _evidence(loaded, min_total=5.0, keep_score=0.9)
    assert set(zip(kept["a"], kept["b"])) == {(0, 1)}
    assert set(kept["family"]) == {"payment", "device"}
    assert _evidence(loaded, min_total=5.0).empty
    assert len(_evidence(loaded, min_total=5.0, keep_score=0.5)) == 4


def test_a_pair_asked_for_twice_comes_back_once(loaded):
    asked = pd.DataFrame({"a": np.array([0, 0, 1], dtype="int32"), "b": np.array([1, 1, 2], dtype="int32")})
    ev = loaded.pair_evidence(LinkPolicy(kinds=KINDS, hub_cap=3, pair_cap=10, anchors=1, total_accounts=100,
                                         min_total=5.0), keep_pairs=asked)
    assert sorted(zip(ev["a"], ev["b"], ev["family"])) == [(0, 1, "device"), (0, 1, "payment"), (1, 2, "payment")]


def test_large_values_link_through_anchor_accounts(loaded):
    ev = _evidence(loaded, pair_cap=2, anchors=1)
    pay = ev[ev["family"] == "payment"]
    # card1 has 3 accounts > pair_cap: each links to the first account only
    assert set(zip(pay["a"], pay["b"])) == {(0, 1), (0, 2)}


@pytest.mark.parametrize("engine", WITH_GDS, indirect=True)
def test_node_similarity_is_weighted_jaccard_with_cutoffs(engine):
    engine.load_accounts(_accounts(["x", "y", "z"]), _ids([]))
    t = [T0 + pd.Timedelta(minutes=30 * k) for k in range(4)]
    engine.load_usage(_usage([
        ("x", t[0], "p", 2), ("x", t[1], "p", 1), ("x", t[2], "p", 1),
        ("y", t[0], "p", 1), ("y", t[1], "p", 1), ("y", t[3], "p", 1),
        ("z", t[3], "q", 1), ("z", t[2], "q", 1),
    ]))
    sim = _similarity(engine, bucket_minutes=30, max_degree=10, top_k=5, similarity_cutoff=0.0, degree_cutoff=2)
    row = sim[(sim["a"] == 0) & (sim["b"] == 1)].iloc[0]  # x, y by position in id order
    # min-sum 1+1 = 2, max-sum 2+1+1+1 = 5
    assert row["similarity"] == pytest.approx(2 / 5)
    assert row["common"] == 2
    assert len(sim) == 1  # z shares no (fingerprint, bucket) with anyone
    assert _similarity(engine, bucket_minutes=30, max_degree=10, top_k=5, similarity_cutoff=0.5,
                                  degree_cutoff=2).empty
    # degree cutoff: accounts with fewer than 4 activity buckets are skipped
    assert _similarity(engine, bucket_minutes=30, max_degree=10, top_k=5, similarity_cutoff=0.0,
                                  degree_cutoff=4).empty
    # fingerprints used by more accounts than max_degree are not projected
    assert _similarity(engine, bucket_minutes=30, max_degree=1, top_k=5, similarity_cutoff=0.0,
                                  degree_cutoff=1).empty


def test_usage_by_group_sums_each_group_per_bucket_and_everyone_else_under_none(loaded):
    day = pd.Timestamp("2026-11-02")
    h = lambda hours: day + pd.Timedelta(hours=hours)
    loaded.load_usage(_usage([
        ("a0", h(1), "p", 2), ("a1", h(5), "p", 3), ("a1", h(26), "q", 1),
        ("a2", h(3), "p", 4), ("a3", h(30), "p", 5), ("a4", h(2), None, 1),
    ]))
    # a0 is listed twice: it counts in its first group only
    groups = pd.DataFrame({"account_id": ["a0", "a1", "a2", "a0"], "group": ["x", "x", "y", "y"]})
    got = loaded.usage_by_group(groups, 1440, day)
    assert list(got.columns) == ["group", "bucket", "requests", "output_tokens", "last_ts"]
    rows = [(g, pd.Timestamp(b), r, o, pd.Timestamp(t)) for g, b, r, o, t in got.itertuples(index=False)]
    assert rows == [
        ("x", day, 5, 40, h(5)), ("x", h(24), 1, 20, h(26)),
        ("y", day, 4, 20, h(3)),
        (None, day, 1, 20, h(2)), (None, h(24), 5, 20, h(30)),
    ]
    # buckets are counted from the origin: from noon, a1's 02:00 next day falls in the first day
    noon = loaded.usage_by_group(groups, 1440, h(12))
    x = noon[noon["group"] == "x"]
    assert [(pd.Timestamp(b), r) for b, r in zip(x["bucket"], x["requests"])] == [(h(-12), 5), (h(12), 1)]
    everyone = loaded.usage_by_group(groups.iloc[0:0], 7 * 1440, day)
    assert everyone["group"].isna().all() and everyone["requests"].sum() == 16


@pytest.mark.parametrize("engine", WITH_GDS, indirect=True)
def test_components_and_communities(engine):
    clique = lambda p: [(f"{p}{i}", f"{p}{j}", 1.0) for i in range(5) for j in range(i + 1, 5)]
    edges = pd.DataFrame(clique("a") + clique("b") + [("a0", "b0", 0.1), ("c0", "c1", 1.0)], columns=["a", "b", "weight"])
    comps = engine.components(edges)
    assert comps["group"].nunique() == 2
    assert set(comps.loc[comps["account_id"] == "c1", "group"]) == {"c0"}
    first, q1 = engine.communities(edges, seed=3, resolution=1.0)
    second, q2 = engine.communities(edges, seed=3, resolution=1.0)
    pd.testing.assert_frame_equal(first, second)
    groups = first.set_index("account_id")["group"]
    assert groups["a1"] == groups["a4"] != groups["b1"]
    assert q1 == q2 > 0.3


@pytest.mark.parametrize("engine", WITH_GDS, indirect=True)
def test_communities_of_several_components_are_each_ones_own(engine):
    # Account numbers, as detection hands them over: each graph split as it would be alone, in the order given.
    rng = np.random.default_rng(5)
    clique = lambda base: [(base + i, base + j, 1.0) for i in range(6) for j in range(i + 1, 6)]
    two_cliques = pd.DataFrame(clique(0) + clique(10) + [(0, 10, 0.2)], columns=["a", "b", "weight"])
    sparse = pd.DataFrame({"a": rng.integers(100, 160, 120), "b": rng.integers(160, 220, 120), "weight": 1.0})
    pair = pd.DataFrame({"a": [500], "b": [501], "weight": [1.0]})
    graphs = [two_cliques.astype({"a": "int32", "b": "int32"}), sparse, pair]
    together = list(engine.communities_of(iter(graphs), seed=4, resolution=1.0))
    assert len(together) == 3
    for graph, (groups, modularity) in zip(graphs, together):
        alone, alone_q = engine.communities(graph, seed=4, resolution=1.0)
        pd.testing.assert_frame_equal(groups.reset_index(drop=True), alone.reset_index(drop=True), check_dtype=False)
        assert modularity == pytest.approx(alone_q)
    cliques = together[0][0].set_index("account_id")["group"]
    assert cliques[1] == cliques[5] != cliques[11]
    assert list(engine.communities_of(iter([]), seed=4, resolution=1.0)) == []


def test_results_round_trip_and_neighbourhood(loaded):
    frame = pd.DataFrame({"ring_id": ["R-1"], "size": [3]})
    loaded.save_results({"rings": frame})
    pd.testing.assert_frame_equal(loaded.results("rings"), frame, check_dtype=False)
    hood = neighbourhood(loaded, "a2", hops=2)[0]
    assert {"a0", "a1", "a2"} <= set(hood["account_id"])
    assert "a3" in set(hood["account_id"])  # two hops: a2 -card-> a0 -ip-> a3
    one = neighbourhood(loaded, "a2", hops=1)[0]
    assert "a3" not in set(one["account_id"])


def test_result_rows_by_key_and_the_versions_readers_cache_on(engine):
    wanted = pd.DataFrame({"ring_id": ["R-3", "R-1", "R-9"]})
    with pytest.raises(EngineError, match="ringwatch detect"):
        engine.results("rings", wanted)
    assert engine.results_version() is None
    ledgers = engine.ledger_version()
    rings = pd.DataFrame({"ring_id": ["R-1", "R-2", "R-3"], "cluster_id": ["a0", "a5", None], "size": [3, 2, 4]})
    engine.save_results({"rings": rings})
    first = engine.results_version()
    got = engine.results("rings", wanted)
    assert got.set_index("ring_id")["size"].to_dict() == {"R-1": 3, "R-3": 4}
    assert engine.results("rings", pd.DataFrame({"size": ["2"]}))["ring_id"].tolist() == ["R-2"]  # compared as text
    assert engine.results("rings", pd.DataFrame({"ring_id": ["R-2"], "cluster_id": ["a0"]})).empty
    with pytest.raises(EngineError, match="nope"):
        engine.results("rings", pd.DataFrame({"nope": ["x"]}))
    # an append renews only its own ledger's number, and not the results
    engine.append_records("queue", pd.DataFrame({"ring_id": ["R-1"]}))
    after = engine.ledger_version()
    assert [a - b for a, b in zip(after, ledgers)] == [int(name == "queue") for name in LEDGERS]
    assert engine.results_version() == first
    engine.save_results({"rings": rings})
    assert engine.results_version() not in (None, first) and engine.ledger_version() == after


def test_result_columns_are_those_of_the_whole_table(engine):
    with pytest.raises(EngineError, match="ringwatch detect"):
        engine.results("rings", columns=["ring_id"])
    rings = pd.DataFrame({"ring_id": ["R-1", "R-2", "R-3"], "flagged": [True, False, True], "size": [3, 2, 4],
                          "explanation": ["a long text", None, "another"]})
    engine.save_results({"rings": rings})
    whole = engine.results("rings")
    for columns in (["flagged", "ring_id"], ["size"], ["ring_id", "flagged", "size", "explanation"]):
        got = engine.results("rings", columns=columns)
        assert list(got.columns) == columns
        pd.testing.assert_frame_equal(got.sort_values(columns).reset_index(drop=True),
                                      whole[columns].sort_values(columns).reset_index(drop=True))
    by_key = engine.results("rings", pd.DataFrame({"ring_id": ["R-3"]}), columns=["size", "ring_id"])
    assert by_key.to_dict("records") == [{"size": 4, "ring_id": "R-3"}]
    with pytest.raises(EngineError, match="nope"):
        engine.results("rings", columns=["ring_id", "nope"])


def test_clear_store_removes_records_and_results(loaded):
    loaded.save_results({"rings": pd.DataFrame({"ring_id": ["R-1"]})})
    assert loaded.clear_store() >= 6
    assert loaded.counts()["accounts"] == 0 and loaded.counts()["identifiers"] == 0
    with pytest.raises(Exception, match="ringwatch detect"):
        loaded.results("rings")


def test_ledgers_append_in_order_and_read_back_exactly(engine):
    assert engine.records("decisions").empty
    first = engine.append_records("decisions", pd.DataFrame({"target": ["R-1", "a0"], "risk": [0.5, None],
                                                             "members": [["a0", "a1"], ["a0"]]}))
    second = engine.append_records("decisions", pd.DataFrame({"target": ["a2"], "n": [3]}))
    assert (first, second) == ([0, 1], [2])
    rows = engine.records("decisions")
    assert rows["seq"].tolist() == [0, 1, 2] and rows["target"].tolist() == ["R-1", "a0", "a2"]
    assert rows["members"].iloc[0] == ["a0", "a1"] and rows["n"].iloc[2] == 3 and isinstance(rows["n"].iloc[2], int)
    assert engine.records("audit").empty  # ledgers are separate
    with pytest.raises(Exception, match="unknown ledger"):
        engine.append_records("nope", pd.DataFrame({"x": [1]}))
    engine.clear_store()
    assert engine.records("decisions").empty


@pytest.mark.notimpl(["neo4j"], raises=NotSupported, reason="labels are written only by load_labels")
def test_the_record_store_selects_and_deletes_by_key(engine):
    labels = pd.DataFrame({"account_id": ["a2", "a0", "a1"], "label": ["legit", "fraud", "fraud"],
                           "ring_id": [None, "R1", "R1"], "attributes": None})
    engine._insert("labels", labels)
    got = engine._select("labels", keys_frame(account_id=["a2", "a0", "zz"]), ["account_id", "label"], ["account_id"])
    assert got.values.tolist() == [["a0", "fraud"], ["a2", "legit"]]
    assert engine._delete("labels", keys_frame(account_id=["a0", "zz"])) == 1
    assert engine.labels()["account_id"].tolist() == ["a1", "a2"]
    with pytest.raises(EngineError, match="unknown table"):
        engine._select("nope")


def test_a_unit_of_work_stores_everything_or_nothing(engine):
    with pytest.raises(RuntimeError), engine.transaction():
        engine.append_records("decisions", pd.DataFrame({"target": ["R-1"]}))
        with engine.transaction():  # an inner block joins the outer one
            engine.append_records("audit", pd.DataFrame({"action": ["x"]}))
        raise RuntimeError("stop")
    assert engine.records("decisions").empty and engine.records("audit").empty
    with engine.transaction():
        engine.append_records("decisions", pd.DataFrame({"target": ["R-1"]}))
    assert engine.records("decisions")["target"].tolist() == ["R-1"]
