"""``Engine.usage_rows``: every engine returns the stored usage rows of the accounts asked for, as loaded.

Run on every engine with the contract suite's fixtures (Neo4j with ``-m neo4j``), and at the
Neo4j engine's seam with a recording runner (no server).
"""

from __future__ import annotations

import pandas as pd
from ringwatch.graph.engines.columns import USAGE_COLUMNS
from ringwatch.graph.engines.neo4j import queries as q
from test_engine_contract import T0, _usage, engine, loaded  # noqa: F401  (fixtures)
from test_neo4j_seam import make


def test_usage_rows_are_the_stored_rows_of_those_accounts(loaded):  # noqa: F811
    rows = _usage([("a0", T0, "p1", 2), ("a0", T0 + pd.Timedelta(minutes=90), "p2", 3), ("a1", T0, "p1", 5)])
    rows["model"] = ["m-large", "m-mini", "m-large"]
    rows["ip"] = ["10.0.0.1", None, "10.0.0.2"]
    loaded.load_usage(rows)
    got = loaded.usage_rows(["a0", "a0", "nobody"]).sort_values("ts").reset_index(drop=True)
    assert list(got.columns) == USAGE_COLUMNS
    assert got["account_id"].tolist() == ["a0", "a0"] and got["requests"].tolist() == [2, 3]
    assert got["model"].tolist() == ["m-large", "m-mini"] and got["ip"].iloc[0] == "10.0.0.1"
    assert pd.to_datetime(got["ts"]).tolist() == [T0, T0 + pd.Timedelta(minutes=90)]
    assert loaded.usage_rows(["nobody"]).empty


def test_neo4j_reads_usage_rows_by_account_in_batches():
    when = pd.Timestamp("2026-11-02 05:00").to_pydatetime()
    answer = [{"usage": {"account_id": "a", "ts": when, "model": "m", "ip": "10.0.0.1", "requests": 2, "epoch": 1}}]
    neo4j, runner, _ = make({q.USAGE_ROWS: answer}, batch=2)
    got = neo4j.usage_rows(["c", "a", "b", "a"])
    assert [p["account_ids"] for p in runner.sent(q.USAGE_ROWS)] == [["a", "b"], ["c"]]
    assert list(got.columns) == USAGE_COLUMNS  # the node's own bookkeeping (epoch) is left out
    assert got["ts"].tolist() == [pd.Timestamp(when), pd.Timestamp(when)] and got["model"].tolist() == ["m", "m"]
