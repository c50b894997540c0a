"""The Neo4j engine at its two seams: the Cypher and GDS calls each operation makes.

No server is involved: a recording runner stands in for ``CypherRunner`` and a recording
GDS runner for ``GdsRunner``; canned answers are written here by hand. These tests check
what is sent (statements, parameters, batching, projection life cycle) and how answers are
turned into the engine's DataFrames; the live behaviour is the contract suite's job
(``-m neo4j`` with NEO4J_URI set).
"""

from __future__ import annotations

import datetime as dt

import networkit as nk
import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.engines.neo4j import engine as ne
from ringwatch.graph.engines.neo4j import queries as q
from ringwatch.graph.engines import EngineError, LinkPolicy, SimilarityPolicy
from ringwatch.graph.engines.neo4j.connection import Neo4jSettings

KNOWN = set(q.all_queries().values())
ACCOUNT_COLS = ["account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net", "device_id",
                "user_agent", "payment_id", "country", "org_id", "attributes"]


class RecordingRunner:
    """Stands in for CypherRunner: records each statement, answers from a table of canned rows."""

    def __init__(self, answers=None):
        self.calls: list[tuple[str, dict, bool]] = []
        self.events: list[str] = []
        self.answers = answers or {}
        self.in_transaction = False

    def run(self, query, params=None, *, read_only=False):
        assert query in KNOWN, "every statement sent must be a named constant (so the parser check sees it)"
        params = params or {}
        self.calls.append((query, params, read_only))
        answer = self.answers.get(query, [])
        return answer(params) if callable(answer) else list(answer)

    def sent(self, query):
        return [p for qq, p, _ in self.calls if qq == query]

    def begin(self):
        self.events.append("begin")
        self.in_transaction = True

    def commit(self):
        self.events.append("commit")
        self.in_transaction = False

    def rollback(self):
        self.events.append("rollback")
        self.in_transaction = False

    def close(self):
        self.events.append("close")


class RecordingGds:
    """Stands in for GdsRunner: records projections, algorithm calls and drops."""

    def __init__(self, answers=None):
        self.constructed: list[tuple[str, pd.DataFrame, pd.DataFrame, tuple]] = []
        self.streams: list[tuple[str, str, dict]] = []
        self.dropped: list[str] = []
        self.answers = answers or {}

    def construct(self, name, nodes, relationships, undirected=()):
        self.constructed.append((name, nodes, relationships, undirected))
        return name

    def stream(self, algorithm, graph, **config):
        self.streams.append((algorithm, graph, config))
        answer = self.answers[algorithm]
        return answer(self.constructed[-1]) if callable(answer) else answer

    def drop(self, name):
        self.dropped.append(name)

    def close(self):
        pass


def make(answers=None, gds_answers=None, batch=2, pair_piece=1_000):
    runner, gds = RecordingRunner(answers), RecordingGds(gds_answers)
    settings = Neo4jSettings(uri="bolt://test:7687", batch_size=batch, stale_minutes=30, pair_piece=pair_piece)
    engine = ne.Neo4jEngine(settings, runner=runner, gds=gds)
    return engine, runner, gds


def _accounts(ids):
    frame = pd.DataFrame({c: [None] * len(ids) for c in ACCOUNT_COLS})
    frame["account_id"] = ids
    frame["created_at"] = pd.to_datetime(["2026-11-01 10:00"] * len(ids))
    frame["email"] = [f"{i}@example.org" for i in ids]
    return frame


def test_start_sets_up_the_schema_then_sweeps_stale_projections():
    _, runner, _ = make()
    sent = [c[0] for c in runner.calls]
    assert sent[:len(q.SCHEMA)] == list(q.SCHEMA)
    assert all("IF NOT EXISTS" in s for s in q.SCHEMA)
    assert any("(a:Account) REQUIRE a.account_id IS UNIQUE" in s for s in q.SCHEMA)
    assert any("(i:Identifier) REQUIRE (i.kind, i.value) IS UNIQUE" in s for s in q.SCHEMA)
    assert sent[len(q.SCHEMA)] == q.SWEEP_PROJECTIONS
    assert runner.sent(q.SWEEP_PROJECTIONS) == [{"prefix": "ringwatch_", "minutes": 30}]
    assert "gds.graph.drop(graphName, false)" in q.SWEEP_PROJECTIONS


def test_load_accounts_sends_only_new_accounts_in_batches():
    existing = {"a1"}
    engine, runner, _ = make({q.NEW_ACCOUNT_IDS: lambda p: [{"id": i} for i in p["ids"] if i not in existing]})
    ids = pd.DataFrame([("a0", "payment", "c1"), ("a1", "payment", "c1"), ("a2", "device", "d"),
                        ("a2", "device", "d"), ("a3", "phone", "+1")], columns=["account_id", "kind", "value"])
    result = engine.load_accounts(_accounts(["a0", "a1", "a2", "a3", "a4"]), ids)
    assert (result.loaded, result.duplicates) == (4, 1)
    # batch size 2: ids asked for in three batches
    assert [p["ids"] for p in runner.sent(q.NEW_ACCOUNT_IDS)] == [["a0", "a1"], ["a2", "a3"], ["a4"]]
    merged = [r for p in runner.sent(q.MERGE_ACCOUNTS) for r in p["rows"]]
    assert [len(p["rows"]) for p in runner.sent(q.MERGE_ACCOUNTS)] == [2, 2]
    assert [r["account_id"] for r in merged] == ["a0", "a2", "a3", "a4"]
    assert merged[0]["created_at"] == dt.datetime(2026, 11, 1, 10, 0) and type(merged[0]["created_at"]) is dt.datetime
    assert merged[0]["phone"] is None and merged[0]["email"] == "a0@example.org"
    # the MERGE key is the constrained property; identifiers of the existing a1 are not sent, duplicates once
    assert "MERGE (a:Account {account_id: row.account_id})" in q.MERGE_ACCOUNTS
    assert "MERGE (v:Identifier {kind: row.kind, value: row.value})" in q.MERGE_IDENTIFIERS
    sent_ids = [(r["account_id"], r["kind"], r["value"]) for p in runner.sent(q.MERGE_IDENTIFIERS) for r in p["rows"]]
    assert sent_ids == [("a0", "payment", "c1"), ("a2", "device", "d"), ("a3", "phone", "+1")]
    assert [i for p in runner.sent(q.LINK_EARLIER_USAGE) for i in p["ids"]] == ["a0", "a2", "a3", "a4"]


def test_load_usage_stores_epoch_seconds_and_links_request_ips_and_prompts():
    engine, runner, _ = make(batch=10)
    usage = pd.DataFrame({
        "account_id": ["a", "a", "b"], "ts": pd.to_datetime(["2026-11-01 00:10", "2026-11-01 00:40", "2026-11-01 01:00"]),
        "ip": ["1.1.1.1", "1.1.1.1", None], "model": "m", "prompt_fingerprint": ["p", None, "p"],
        "input_tokens": [1, 2, 3], "output_tokens": [4, 5, 6], "requests": [1, 1, 2], "user_agent": None,
    })
    assert engine.load_usage(usage).loaded == 3
    rows = runner.sent(q.CREATE_USAGE)[0]["rows"]
    expected = dt.datetime(2026, 11, 1, 0, 10, tzinfo=dt.UTC).timestamp()
    assert rows[0]["epoch"] == expected and rows[0]["ts"] == dt.datetime(2026, 11, 1, 0, 10)
    assert rows[1]["prompt_fingerprint"] is None
    links = {(r["account_id"], r["kind"], r["value"]) for r in runner.sent(q.MERGE_USAGE_LINKS)[0]["rows"]}
    assert links == {("a", "request_ip", "1.1.1.1"), ("a", "prompt", "p"), ("b", "prompt", "p")}
    assert "CREATE (u:Usage)" in q.CREATE_USAGE and "MERGE (a)-[:USED]->(v)" in q.MERGE_USAGE_LINKS


def test_units_of_work_and_labels():
    engine, runner, _ = make()
    with pytest.raises(RuntimeError):
        with engine.transaction():
            engine.load_labels(pd.DataFrame({"account_id": ["a", "a"], "label": ["legit", "fraud"],
                                             "ring_id": [None, "R1"], "attributes": None}))
            raise RuntimeError("undo")
    assert runner.events == ["begin", "rollback"]
    # a later label for the same account replaces the earlier one
    assert runner.sent(q.MERGE_LABELS)[0]["rows"] == [
        {"account_id": "a", "label": "fraud", "ring_id": "R1", "attributes": None}]
    assert "SET l = row" in q.MERGE_LABELS


def test_pair_evidence_numbers_accounts_then_sends_every_parameter():
    numbers = [{"account_id": "b", "idx": 1}, {"account_id": "a", "idx": 5}, {"account_id": "c", "idx": None}]
    answer = [{"a": 0, "b": 1, "family": "payment", "score": 0.9, "shared": 1}]
    engine, runner, _ = make({q.ACCOUNT_NUMBERS: numbers, q.PAIR_EVIDENCE: answer})
    kinds = pd.DataFrame({"kind": ["payment", "phone"], "family": ["payment", "phone"], "weight": [1.0, 1.0],
                          "alone": [np.nan, 0.5]})
    keep = pd.DataFrame({"a": np.array([0, 2], dtype="int32"), "b": np.array([2, 7], dtype="int32")})
    policy = LinkPolicy(kinds=kinds, hub_cap=3, pair_cap=10, anchors=1, total_accounts=2, min_total=1.2)
    ev = engine.pair_evidence(policy, keep_pairs=keep)
    # a, b, c in id order are 0, 1, 2: b is right already, a and c are renumbered
    assert runner.sent(q.SET_ACCOUNT_NUMBERS) == [{"rows": [{"account_id": "a", "idx": 0}, {"account_id": "c", "idx": 2}]}]
    params = runner.sent(q.PAIR_EVIDENCE)[0]
    assert params["kinds"] == [{"kind": "payment", "family": "payment", "weight": 1.0, "alone": None},
                               {"kind": "phone", "family": "phone", "weight": 1.0, "alone": 0.5}]
    assert (params["hub_cap"], params["pair_cap"], params["anchors"]) == (3, 10, 1)
    assert params["total"] == 3.0  # at least 3 accounts, as the embedded engine
    assert params["min_total"] == 1.2 and "alone_family" not in params
    assert params["keep"] == {"0,2": True, "2,7": True}
    assert list(ev.columns) == ["a", "b", "family", "score", "shared"] and ev["a"].dtype == "int32"
    # numbering is done once until accounts change
    engine.pair_evidence(policy)
    assert len(runner.sent(q.ACCOUNT_NUMBERS)) == 1
    assert runner.sent(q.PAIR_EVIDENCE)[1]["keep"] == {}


def test_pair_evidence_is_grouped_in_pieces_of_the_configured_size():
    numbers = [{"account_id": "a", "idx": 0}, {"account_id": "b", "idx": 1}]
    # Each piece answers its own pairs, out of order; the engine gives them back sorted.
    by_piece = {0: [{"a": 3, "b": 4, "family": "phone", "score": 0.5, "shared": 1}],
                1: [{"a": 1, "b": 9, "family": "payment", "score": 0.9, "shared": 2}],
                2: [{"a": 2, "b": 3, "family": "device", "score": 0.7, "shared": 1}]}
    engine, runner, _ = make({q.ACCOUNT_NUMBERS: numbers, q.PAIR_CANDIDATES: [{"pairs": 25}],
                              q.PAIR_EVIDENCE: lambda params: by_piece[params["piece"]]}, pair_piece=10)
    kinds = pd.DataFrame({"kind": ["payment"], "family": ["payment"], "weight": [1.0], "alone": [np.nan]})
    policy = LinkPolicy(kinds=kinds, hub_cap=3, pair_cap=10, anchors=1, total_accounts=2, min_total=1.2)
    ev = engine.pair_evidence(policy)
    sent = runner.sent(q.PAIR_EVIDENCE)
    assert [(p["piece"], p["pieces"]) for p in sent] == [(0, 3), (1, 3), (2, 3)]  # 25 pairs in pieces of 10
    assert runner.sent(q.PAIR_CANDIDATES)[0]["hub_cap"] == 3
    assert ev[["a", "b"]].values.tolist() == [[1, 9], [2, 3], [3, 4]]
    # no candidates at all: one query still runs (it answers nothing)
    engine, runner, _ = make({q.ACCOUNT_NUMBERS: numbers, q.PAIR_CANDIDATES: [{"pairs": None}]})
    assert engine.pair_evidence(policy).empty and [p["pieces"] for p in runner.sent(q.PAIR_EVIDENCE)] == [1]


def test_pair_evidence_query_follows_the_embedded_rules():
    text = " ".join(q.PAIR_EVIDENCE.split())
    assert "ORDER BY acc.idx" in text and "collect(DISTINCT acc.idx)" in text
    assert "n >= 2 AND n <= $hub_cap" in text
    assert "CASE WHEN n <= $pair_cap THEN n ELSE $anchors END" in text
    assert "log($total / n) / log($total / 2.0)" in text
    assert "capped >= $min_total OR alone OR" in text
    assert "WHERE a % $pieces = $piece" in text
    assert "f.alone IS NOT NULL AND f.score >= f.alone" in text


# Activity from the contract test: x (idx 0) and y (idx 1) share buckets 0 and 1 of prompt p.
ACTIVITY = [
    {"idx": 0, "fp": "p", "slot": 0, "weight": 2.0}, {"idx": 0, "fp": "p", "slot": 1, "weight": 1.0},
    {"idx": 0, "fp": "p", "slot": 2, "weight": 1.0}, {"idx": 1, "fp": "p", "slot": 0, "weight": 1.0},
    {"idx": 1, "fp": "p", "slot": 1, "weight": 1.0}, {"idx": 1, "fp": "p", "slot": 3, "weight": 1.0},
    {"idx": 2, "fp": "q", "slot": 2, "weight": 1.0}, {"idx": 2, "fp": "q", "slot": 3, "weight": 1.0},
]


def test_node_similarity_projects_weighted_activity_and_passes_gds_parameters():
    stream = pd.DataFrame({"node1": [0, 1], "node2": [1, 0], "similarity": [0.4, 0.4]})
    engine, runner, gds = make({q.ACCOUNT_NUMBERS: [], q.SIMILARITY_ACTIVITY: ACTIVITY},
                               {"node_similarity": stream})
    sim = engine.node_similarity(SimilarityPolicy(bucket_minutes=30, max_template_accounts=10, top_k=5, cutoff=0.1,
                                                  degree_cutoff=2))
    params = runner.sent(q.SIMILARITY_ACTIVITY)[0]
    assert params == {"max_degree": 10, "origin": ne.ORIGIN_SECONDS, "width": 1800}
    name, nodes, rels, undirected = gds.constructed[0]
    assert name.startswith("ringwatch_similarity_") and undirected == ()
    assert sorted(nodes.loc[nodes["labels"] == "Account", "nodeId"]) == [0, 1, 2]
    # six distinct (fingerprint, bucket) activity nodes, none sharing an id with an account
    activity_ids = set(nodes.loc[nodes["labels"] == "Activity", "nodeId"])
    assert len(activity_ids) == 6 and not activity_ids & {0, 1, 2}
    assert len(rels) == 8 and rels["weight"].sum() == 9.0 and set(rels["targetNodeId"]) == activity_ids
    algorithm, graph, config = gds.streams[0]
    assert (algorithm, graph) == ("node_similarity", name)
    assert config == {"top_k": 5, "similarity_cutoff": 0.1, "degree_cutoff": 2,
                      "relationship_weight_property": "weight", "similarity_metric": "JACCARD"}
    assert gds.dropped == [name]
    # both stream directions become one pair; common = shared activity nodes (buckets 0 and 1)
    assert sim.to_dict("records") == [{"a": 0, "b": 1, "similarity": 0.4, "common": 2}]


def test_projection_is_dropped_when_the_algorithm_fails():
    def boom(_):
        raise RuntimeError("GDS failed")

    engine, _, gds = make(gds_answers={"wcc": boom})
    with pytest.raises(RuntimeError):
        engine.components(pd.DataFrame({"a": ["x"], "b": ["y"], "weight": [1.0]}))
    assert gds.dropped == [gds.constructed[0][0]]
    gds.answers["wcc"] = pd.DataFrame({"nodeId": [0, 1], "componentId": [7, 7]})
    engine.components(pd.DataFrame({"a": ["x"], "b": ["y"], "weight": [1.0]}))
    assert gds.constructed[1][0] != gds.constructed[0][0]  # every projection has its own name
    assert gds.dropped[1] == gds.constructed[1][0]


def test_components_map_gds_output_back_to_account_ids():
    edges = pd.DataFrame({"a": ["b1", "a1", "c0"], "b": ["b0", "a0", "c1"], "weight": [1.0, 1.0, 2.0]})
    # node ids follow the sorted account ids: a0 a1 b0 b1 c0 c1 -> 0..5
    wcc = pd.DataFrame({"nodeId": [0, 1, 2, 3, 4, 5], "componentId": [40, 40, 12, 12, 40, 99]})
    engine, _, gds = make(gds_answers={"wcc": wcc})
    comps = engine.components(edges)
    _, nodes, rels, undirected = gds.constructed[0]
    assert undirected == ("LINK",) and list(nodes["nodeId"]) == [0, 1, 2, 3, 4, 5]
    assert list(zip(rels["sourceNodeId"], rels["targetNodeId"])) == [(3, 2), (1, 0), (4, 5)]
    assert dict(zip(comps["account_id"], comps["group"])) == {
        "a0": "a0", "a1": "a0", "c0": "a0", "b0": "b0", "b1": "b0", "c1": "c1"}


def test_communities_run_seeded_leiden_and_report_networkit_modularity():
    clique = lambda p, o: [(o + i, o + j) for i in range(4) for j in range(i + 1, 4)]
    pairs = clique("a", 0) + clique("b", 4) + [(0, 4)]
    edges = pd.DataFrame(pairs, columns=["a", "b"]).assign(weight=[1.0] * 12 + [0.5])
    leiden = pd.DataFrame({"nodeId": range(8), "communityId": [5] * 4 + [9] * 4})
    engine, _, gds = make(gds_answers={"leiden": leiden})
    groups, modularity = engine.communities(edges, seed=7, resolution=1.5)
    algorithm, _, config = gds.streams[0]
    assert algorithm == "leiden"
    assert config == {"random_seed": 7, "gamma": 1.5, "relationship_weight_property": "weight", "concurrency": 1}
    assert gds.constructed[0][3] == ("LINK",)
    assert groups.groupby("group")["account_id"].apply(list).to_dict() == {0: [0, 1, 2, 3], 4: [4, 5, 6, 7]}
    graph = nk.Graph(8, weighted=True)
    for (a, b), w in zip(pairs, edges["weight"]):
        graph.addEdge(a, b, w)
    expected = nk.community.Modularity().getQuality(nk.structures.Partition(8, [0] * 4 + [1] * 4), graph)
    assert modularity == pytest.approx(expected)


def test_results_round_trip_through_parquet_chunks(monkeypatch):
    monkeypatch.setattr(ne, "RESULT_CHUNK_ROWS", 2)
    stored = {}

    def keep(params):
        for row in params["rows"]:
            stored.setdefault(row["table"], []).append(row)
        return []

    engine, runner, _ = make({q.MERGE_RESULT_CHUNKS: keep,
                              q.RESULT_CHUNKS: lambda p: [{"seq": r["seq"], "parquet": r["parquet"]}
                                                          for r in stored.get(p["table"], [])]})
    rings = pd.DataFrame({"ring_id": ["R-1", "R-2", "R-3"], "size": [3, 4, 5],
                          "first_seen": pd.to_datetime(["2026-11-01", "2026-11-02", None])})
    accounts = pd.DataFrame({"account_id": ["a", "b"], "ring_id": ["R-1", None], "risk_score": [0.9, 0.0],
                             "flagged": [True, False], "reasons": ["x", ""], "cluster_id": ["a", None]})
    engine.save_results({"rings": rings, "accounts": accounts, "runs": rings.iloc[0:0]})
    assert runner.events == ["begin", "commit"]
    # every save also renews the results revision the dashboard's caches are keyed on
    assert runner.sent(q.DELETE_RESULT_CHUNKS) == [{"tables": ["accounts", "revision", "rings", "runs"]}]
    assert [r["rows"] for r in stored["revision"]] == [1]
    assert [r["seq"] for r in stored["rings"]] == [0, 1] and [r["rows"] for r in stored["rings"]] == [2, 1]
    pd.testing.assert_frame_equal(engine.results("rings"), rings)
    empty = engine.results("runs")
    assert empty.empty and list(empty.columns) == list(rings.columns)
    # ring membership is written onto the member accounts only
    assert runner.sent(q.MARK_RINGS) == [{"rows": [
        {"account_id": "a", "ring_id": "R-1", "risk_score": 0.9, "flagged": True, "cluster_id": "a"}]}]
    with pytest.raises(EngineError, match="run `ringwatch detect` first"):
        engine.results("ring_evidence")
    with pytest.raises(EngineError, match="unknown result tables"):
        engine.save_results({"nope": rings})


def test_lookups_send_values_and_limits():
    engine, runner, _ = make({q.VALUE_ACCOUNTS: [{"account_id": "a0", "kind": "payment", "value": "c", "holders": 2}],
                              q.MEMBER_USAGE: [{"account_id": "a", "slot": 1, "prompt_fingerprint": "p",
                                                "requests": 2, "input_tokens": 3, "output_tokens": 4}]})
    got = engine.value_accounts(pd.DataFrame({"kind": ["payment"], "value": ["c"]}), per_value=5, limit=9)
    assert runner.sent(q.VALUE_ACCOUNTS) == [{"values": [{"kind": "payment", "value": "c"}], "per_value": 5, "limit": 9}]
    assert list(got.columns) == ["account_id", "kind", "value", "holders"]
    usage = engine.member_usage(["b", "a", "b"], bucket_minutes=30)
    assert runner.sent(q.MEMBER_USAGE)[0]["account_ids"] == ["a", "b"]
    # slot 1 of 30 minutes from DuckDB's bucket origin
    assert usage["bucket"].tolist() == [pd.Timestamp("2000-01-03 00:30")]
    assert list(usage.columns) == ["account_id", "bucket", "prompt_fingerprint", "requests", "input_tokens",
                                   "output_tokens"]


def test_usage_by_group_batches_the_groups_and_sums_everyone_else_in_one_pass():
    when = dt.datetime(2026, 11, 2, 5)
    engine, runner, _ = make({
        q.USAGE_BY_GROUP: lambda p: [{"grp": "x", "slot": 0, "requests": len(p["rows"]), "output_tokens": 10,
                                      "last_ts": when}],
        q.USAGE_OUTSIDE_GROUPS: [{"slot": 1, "requests": 7, "output_tokens": 3, "last_ts": when}],
    }, batch=2)
    origin = pd.Timestamp("2026-11-02")
    groups = pd.DataFrame({"account_id": ["a", "b", "c", "a"], "group": ["x", "x", "x", "y"]})
    got = engine.usage_by_group(groups, 1440, origin)
    batches = runner.sent(q.USAGE_BY_GROUP)
    assert [b["rows"] for b in batches] == [[{"account_id": "a", "grp": "x"}, {"account_id": "b", "grp": "x"}],
                                            [{"account_id": "c", "grp": "x"}]]
    assert all(b["origin"] == 1793577600 and b["width"] == 86400 for b in batches)  # 2026-11-02 in epoch seconds
    assert runner.sent(q.USAGE_OUTSIDE_GROUPS) == [{"account_ids": ["a", "b", "c"], "origin": 1793577600,
                                                    "width": 86400}]
    # the two batches' partial sums add up; everyone else comes last, under None
    assert got["group"].tolist() == ["x", None]
    assert got["bucket"].tolist() == [origin, origin + pd.Timedelta(days=1)]
    assert got["requests"].tolist() == [3, 7] and got["output_tokens"].tolist() == [20, 3]
    assert got["last_ts"].tolist() == [pd.Timestamp(when)] * 2


def test_clear_store_deletes_in_batches_until_empty():
    left = [3, 2, 0]
    engine, runner, _ = make({q.CLEAR_STORE: lambda p: [{"deleted": left.pop(0)}]}, batch=3)
    assert engine.clear_store() == 5
    assert runner.sent(q.CLEAR_STORE) == [{"batch": 3}] * 3


def test_modularity_matches_networkit_on_a_random_graph():
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 30, 120), rng.integers(0, 30, 120)
    keep = src != dst
    rels = pd.DataFrame({"sourceNodeId": src[keep], "targetNodeId": dst[keep], "weight": rng.random(keep.sum()) + 0.1})
    rels = rels.drop_duplicates(["sourceNodeId", "targetNodeId"])
    membership = rng.integers(0, 4, 30)
    graph = nk.Graph(30, weighted=True)
    for a, b, w in rels.itertuples(index=False):
        graph.addEdge(int(a), int(b), float(w))
    expected = nk.community.Modularity().getQuality(nk.structures.Partition(30, membership.tolist()), graph)
    assert ne.modularity(rels, membership) == pytest.approx(expected)


def test_ledger_appends_number_after_the_last_entry_and_create_never_merge():
    stored = []
    engine, runner, _ = make({
        q.LEDGER_NEXT_SEQ: lambda p: [{"next": len(stored)}],
        q.APPEND_LEDGER: lambda p: stored.extend(p["rows"]) or [],
        q.LEDGER_ENTRIES: lambda p: [{"seq": r["seq"], "body": r["body"]} for r in stored],
    })
    assert engine.append_records("audit", pd.DataFrame({"action": ["a", "b"], "n": [1, 2]})) == [0, 1]
    assert engine.append_records("audit", pd.DataFrame({"action": ["c"], "n": [3]})) == [2]
    assert runner.sent(q.APPEND_LEDGER)[1] == {"ledger": "audit", "rows": [{"seq": 2, "body": '{"action":"c","n":3}'}]}
    assert "CREATE (e:LedgerEntry" in q.APPEND_LEDGER and "MERGE" not in q.APPEND_LEDGER
    assert any("(e:LedgerEntry) REQUIRE (e.ledger, e.seq) IS UNIQUE" in s for s in q.SCHEMA)
    back = engine.records("audit")
    assert back["seq"].tolist() == [0, 1, 2] and back["action"].tolist() == ["a", "b", "c"]
    with pytest.raises(EngineError, match="unknown ledger"):
        engine.records("nope")


def test_accounts_by_id_sends_only_the_ids_and_keeps_id_order():
    engine, runner, _ = make({
        q.ACCOUNTS_BY_ID: [{"account": {"account_id": "b", "created_at": "2026-11-02T00:00:00Z"}},
                           {"account": {"account_id": "a", "created_at": "2026-11-01T00:00:00Z"}}],
    })
    got = engine.accounts(["b", "a"])
    assert runner.sent(q.ACCOUNTS_BY_ID) == [{"ids": ["b", "a"]}]
    assert list(got["account_id"]) == ["a", "b"] and "payment_id" in got.columns
    assert not runner.sent(q.ACCOUNTS)  # never the whole store
    assert list(engine.accounts(["a"], columns=["created_at"]).columns) == ["account_id", "created_at"]
