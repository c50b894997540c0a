"""The Spark engine's own parts, in local mode: distributed components, its settings, and its copy of the records.

The engine's answers are checked against every other engine by the contract, reference and
parity suites; here, what only it has.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.engines import EngineError, inprocess, open_engine
from ringwatch.graph.engines.spark.session import spark_conf

pytestmark = pytest.mark.spark


@pytest.fixture
def spark_engine(tmp_path):
    with open_engine("spark", tmp_path / "spark.duckdb") as engine:
        yield engine


def _accounts(ids):
    from ringwatch.graph.engines.columns import ACCOUNT_COLUMNS

    frame = pd.DataFrame({c: [None] * len(ids) for c in ACCOUNT_COLUMNS})
    frame["account_id"] = ids
    frame["created_at"] = pd.Timestamp("2026-11-01")
    return frame


def _ids(rows):
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def test_components_equal_scipys_on_chains_stars_and_random_graphs(spark_engine):
    rng = np.random.default_rng(7)
    chain = pd.DataFrame({"a": np.arange(0, 300), "b": np.arange(1, 301)})  # the most rounds: a long path
    backwards = pd.DataFrame({"a": np.arange(400, 300, -1), "b": np.arange(399, 299, -1)})
    star = pd.DataFrame({"a": np.full(50, 1000), "b": np.arange(1001, 1051)})
    random = pd.DataFrame({"a": rng.integers(2000, 2600, 500), "b": rng.integers(2000, 2600, 500)})
    edges = pd.concat([chain, backwards, star, random], ignore_index=True).assign(weight=1.0)
    got = spark_engine.components(edges)
    pd.testing.assert_frame_equal(got, inprocess.components(edges), check_dtype=False)
    assert got.loc[got["account_id"] == 300, "group"].item() == 0
    assert got["group"].nunique() == inprocess.components(edges)["group"].nunique()


def test_components_of_account_ids_are_named_after_their_smallest_id(spark_engine):
    edges = pd.DataFrame({"a": ["acct-z", "acct-m", "acct-q"], "b": ["acct-m", "acct-b", "acct-r"], "weight": 1.0})
    got = spark_engine.components(edges)
    assert dict(zip(got["account_id"], got["group"])) == {
        "acct-b": "acct-b", "acct-m": "acct-b", "acct-z": "acct-b", "acct-q": "acct-q", "acct-r": "acct-q"}
    assert spark_engine.components(edges.iloc[:0]).empty


def test_answers_follow_the_records_after_a_load(spark_engine):
    spark_engine.load_accounts(_accounts(["a0", "a1", "a2"]),
                               _ids([("a0", "device", "d1"), ("a1", "device", "d1"), ("a2", "device", "d2")]))
    before = spark_engine.identifier_degrees()
    assert before[["kind", "value", "accounts"]].values.tolist() == [["device", "d1", 2]]
    # A later load must reach Spark: its copy of the records is written again.
    spark_engine.load_accounts(_accounts(["a3", "a4"]), _ids([("a3", "device", "d1"), ("a4", "device", "d2")]))
    after = spark_engine.identifier_degrees()
    assert after[["kind", "value", "accounts"]].values.tolist() == [["device", "d1", 3], ["device", "d2", 2]]


def test_the_records_copy_goes_with_the_engine(tmp_path, monkeypatch):
    work = tmp_path / "work"
    monkeypatch.setenv("RINGWATCH_SPARK_WORKDIR", str(work))
    with open_engine("spark", tmp_path / "s.duckdb") as engine:
        engine.load_accounts(_accounts(["a0", "a1"]), _ids([("a0", "device", "d"), ("a1", "device", "d")]))
        engine.identifier_degrees()
        written = [p.name for p in work.rglob("*.parquet")]
        assert sorted(written) == ["accounts.parquet", "identifiers.parquet", "usage.parquet"]
    assert list(work.iterdir()) == []


def test_the_side_reader_shares_the_records_copy(spark_engine):
    spark_engine.load_accounts(_accounts(["a0"]), _ids([]))
    spark_engine.load_usage(pd.DataFrame({
        "account_id": ["a0", "a0", "zz"], "ts": pd.to_datetime(["2026-11-01 10:00", "2026-11-02 11:00", "2026-11-01 09:00"]),
        "ip": None, "model": "m", "prompt_fingerprint": ["p1", "p2", "p1"], "input_tokens": 5, "output_tokens": 7,
        "requests": [1, 2, 4], "user_agent": None, "request_id": None}))
    reader = spark_engine.side_reader()
    try:
        summary = reader.usage_summary().set_index("account_id")
    finally:
        reader.close()
    assert summary.loc["a0", "requests"] == 3 and summary.loc["a0", "active_days"] == 2
    assert summary.loc["zz", "prompts"] == 1  # usage of an account not signed up is summed too, as everywhere
    assert spark_engine.prompt_summary().set_index("prompt_fingerprint").loc["p1", "accounts"] == 2


def test_spark_settings_are_key_value_pairs():
    assert spark_conf("spark.driver.memory=8g  spark.sql.shuffle.partitions=16") == {
        "spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "16"}
    assert spark_conf("") == {}
    for bad in ("driver.memory=8g", "spark.driver.memory", "spark.driver.memory="):
        with pytest.raises(EngineError, match="RINGWATCH_SPARK_CONF"):
            spark_conf(bad)


def test_sparks_own_errors_come_as_the_engines(spark_engine):
    rows = spark_engine._frame(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(EngineError, match="^spark: .*no_such_column"):
        spark_engine._sql("SELECT no_such_column FROM {rows}", rows=rows)  # found when the statement is planned
    with pytest.raises(EngineError, match="^spark: "):
        spark_engine._pandas("SELECT 1 / (a - a) FROM {rows}", rows=rows)  # ANSI mode: division by zero


def _cliques(starts, size=8, bridge=0.5):
    """Cliques of ``size`` accounts from each start, each joined to the next by one weak link."""
    rows = [(s + i, s + j, 1.0) for s in starts for i in range(size) for j in range(i + 1, size)]
    rows += [(s + size - 1, t, bridge) for s, t in itertools.pairwise(starts)]
    return pd.DataFrame(rows, columns=["a", "b", "weight"])


def _networkit_modularity(edges, groups):
    import networkit as nk

    ids, graph = inprocess.build_graph(edges)
    group_of = dict(zip(groups["account_id"], groups["group"]))
    codes = pd.factorize(pd.Series([group_of[i] for i in ids]))[0]
    return nk.community.Modularity().getQuality(nk.structures.Partition(len(ids), codes.tolist()), graph)


def test_a_component_over_the_worker_bound_is_split_across_the_cluster_and_said(spark_engine, monkeypatch, caplog):
    monkeypatch.setenv("RINGWATCH_SPARK_SPLIT_LINKS", "40")
    large = _cliques([0, 20, 40])  # 86 links
    small = _cliques([100, 110], size=5)  # 21 links: whole on one worker
    other = _cliques([200, 230])  # 57 links: split with the first, in the same rounds
    with caplog.at_level("WARNING"):
        (got, modularity), (louvain, small_modularity), (got_other, other_modularity) = \
            spark_engine.communities_of(iter([large, small, other]), seed=3, resolution=1.0)
    # No account dropped; each clique a community named after its least account; each component its own.
    assert dict(zip(got["account_id"], got["group"])) == {s + i: s for s in (0, 20, 40) for i in range(8)}
    assert dict(zip(got_other["account_id"], got_other["group"])) == {s + i: s for s in (200, 230) for i in range(8)}
    assert modularity == pytest.approx(_networkit_modularity(large, got), abs=1e-12)
    assert other_modularity == pytest.approx(_networkit_modularity(other, got_other), abs=1e-12)
    assert modularity > 0.6 and other_modularity > 0.4
    expected, expected_modularity = inprocess.communities(small, 3, 1.0)
    pd.testing.assert_frame_equal(louvain.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    assert small_modularity == pytest.approx(expected_modularity)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 2 and "24 accounts has 86 strong links" in said[0] and "16 accounts has 57" in said[1]
    assert all("RINGWATCH_SPARK_SPLIT_LINKS=40" in s and "label propagation" in s for s in said)


def test_label_propagation_settles_on_two_sided_graphs_and_repeats_on_any_partitioning(spark_engine):
    from ringwatch.graph.engines.spark import propagation

    e = spark_engine

    def run(edges):
        return propagation.communities(edges, e._frame, e._sql, e._pandas, e._side.keep, e._side.release)

    # Two sides only: where every account moves at once, each pair of neighbours swaps labels every round.
    pair = pd.DataFrame({"a": [0], "b": [1], "weight": [1.0]})
    bipartite = pd.DataFrame([(10 + i, 20 + j, 1.0) for i in range(3) for j in range(3)], columns=["a", "b", "weight"])
    groups, rounds, settled = run(pd.concat([pair, bipartite], ignore_index=True))
    assert settled and rounds < propagation.MAX_ROUNDS
    group_of = dict(zip(groups["account_id"], groups["group"]))
    assert group_of == {0: 0, 1: 0, **{n: 10 for n in (10, 11, 12, 20, 21, 22)}}

    rng = np.random.default_rng(5)
    a, b = rng.integers(100, 220, 300), rng.integers(100, 220, 300)
    random = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "weight": rng.random(300)}) \
        .query("a < b").drop_duplicates(["a", "b"], ignore_index=True)
    spark = e._side.spark
    before = spark.conf.get("spark.sql.shuffle.partitions")
    first = run(random)
    try:
        spark.conf.set("spark.sql.shuffle.partitions", "7")
        second = run(random)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    pd.testing.assert_frame_equal(first[0], second[0])
    assert first[1:] == second[1:]
    assert set(first[0]["account_id"]) == set(random["a"]) | set(random["b"])
    assert propagation.modularity(random, first[0]) == pytest.approx(_networkit_modularity(random, first[0]),
                                                                     abs=1e-12)


def test_the_worker_bound_must_be_a_positive_number(spark_engine, monkeypatch):
    monkeypatch.setenv("RINGWATCH_SPARK_SPLIT_LINKS", "none")
    with pytest.raises(ValueError, match="RINGWATCH_SPARK_SPLIT_LINKS must be a positive integer"):
        list(spark_engine.communities_of(iter([_cliques([0])]), seed=1, resolution=1.0))


def _lake(root, table):
    import pyarrow.dataset as ds

    return ds.dataset(root / table, format="parquet", partitioning="hive").to_table().to_pandas()


def _run_results(n, flagged):
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "flagged": [i < flagged for i in range(n)]})
    runs = pd.DataFrame({"finished_at": [pd.Timestamp("2026-11-30")], "accounts": [n]})
    return {"accounts": accounts, "rings": pd.DataFrame({"ring_id": ["R-1"], "size": [flagged]}), "runs": runs}


def test_a_runs_results_are_written_where_asked_once_stored_and_only_then(spark_engine, tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    monkeypatch.setenv("RINGWATCH_SPARK_RESULTS", str(lake))
    spark_engine.save_results(_run_results(5, 2))
    first = spark_engine.results_version()
    accounts = _lake(lake, "accounts")
    assert sorted(accounts["account_id"]) == [f"a{i}" for i in range(5)] and accounts["flagged"].sum() == 2
    assert set(accounts["revision"]) == {first} and set(_lake(lake, "runs")["revision"]) == {first}
    assert set(_lake(lake, "rings")["revision"]) == {first}

    # A run whose unit of work is rolled back writes nothing; a decision's change of the results waits for a run.
    with pytest.raises(RuntimeError), spark_engine.transaction():
        spark_engine.save_results(_run_results(7, 3))
        raise RuntimeError("killed")
    spark_engine.save_results({"accounts": _run_results(5, 1)["accounts"]})
    assert set(_lake(lake, "runs")["revision"]) == {first} and len(_lake(lake, "accounts")) == 5

    spark_engine.save_results(_run_results(6, 4))
    runs = _lake(lake, "runs")
    assert set(runs["revision"]) == {first, spark_engine.results_version()}
    latest = _lake(lake, "accounts").query("revision == @spark_engine.results_version()")
    assert len(latest) == 6 and latest["flagged"].sum() == 4


def test_results_that_cannot_be_written_out_are_said_and_stay_stored(spark_engine, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("RINGWATCH_SPARK_RESULTS", str(blocked / "lake"))
    with pytest.raises(EngineError, match="saved in the store, but writing them to .*a-file/lake failed"):
        spark_engine.save_results(_run_results(3, 1))
    assert len(spark_engine.results("accounts")) == 3


def test_tables_and_uris_are_read_by_spark_and_load_as_their_files_do(spark_engine, tmp_path):
    from ringwatch.graph.load import ingest
    from ringwatch.scenarios.generate import generate

    files = generate(tmp_path / "data", accounts=500, seed=2)
    with open_engine("embedded", tmp_path / "files.duckdb") as engine:
        ingest(engine, signups=files.signups, usage=files.usage)
        expected = engine.counts()
        with pytest.raises(EngineError, match="table:signups: the embedded engine reads files.*--engine spark"):
            ingest(engine, signups="table:signups")

    spark = spark_engine._side.spark
    spark.read.parquet(str(files.signups)).createOrReplaceTempView("lake_signups")
    sources = {"signups": "table:lake_signups", "usage": files.usage.resolve().as_uri()}  # file:///...
    summary = ingest(spark_engine, **sources)
    assert spark_engine.counts() == expected
    assert summary.totals("signups").rows_read == files.signup_rows
    assert summary.totals("usage").rows_read == files.usage_rows
    assert summary.totals("signups").rows_quarantined + summary.totals("usage").rows_quarantined == expected["quarantined"]
    assert not [p for p in spark_engine._side.folder.iterdir() if p.name.startswith("input-")]  # copies removed
    # Named as given, with the part file: the summary, the quarantine and the loaded-files record.
    shown = {row["source"].split("#")[0] for row in summary.as_rows()}
    assert shown == set(sources.values())
    assert all(re.fullmatch(r".+#part-\d{5}\.parquet", row["source"]) for row in summary.as_rows())
    quarantined = spark_engine._select("quarantine")
    assert len(quarantined) == expected["quarantined"] and set(quarantined["source"].str.split("#").str[0]) == shown
    assert set(spark_engine._select("loaded_files")["source"].str.split("#").str[0]) == shown
    ingest(spark_engine, **sources)  # the same table and folder again: nothing loads twice
    assert spark_engine.counts() == expected
    with pytest.raises(EngineError, match="^spark: .*lake_nothing"):
        ingest(spark_engine, signups="table:lake_nothing")
