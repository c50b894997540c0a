"""The Spark engine's own parts, in local mode: distributed components, its settings, and its copy of the records.

The engine's answers are checked against every other engine by the contract, reference and
parity suites; here, what only it has.
"""

from __future__ import annotations

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
