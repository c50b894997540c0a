"""A detection run holds little past its graph questions: it drops the tables they built (the next run builds
them again), and keeps of the strong links only what each clustered account's reasons say of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ringwatch.graph.detection.explanations import link_facts
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from scenario_store import scenario_store


def _temporary(engine) -> list[str]:
    return [row[0] for row in engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def test_a_run_drops_its_link_tables_and_a_second_run_on_the_same_handle_finds_the_same_rings(tmp_path):
    db = scenario_store(tmp_path, accounts=1500, seed=3)
    with open_engine("embedded", db) as engine:
        engine.identifier_degrees()
        assert {"links", "value_degree", "account_index"} <= set(_temporary(engine))
        first = detect(engine)
        # A row per account and value, gigabytes on a large store: not held past the run.
        assert _temporary(engine) == []
        rings = engine.results("rings")[["ring_id", "size", "risk_score", "flagged"]]
        second = detect(engine)
        assert _temporary(engine) == []
        again = engine.results("rings")[["ring_id", "size", "risk_score", "flagged"]]
    assert (second.links, second.rings, second.flagged_accounts) == (first.links, first.rings, first.flagged_accounts)
    assert first.rings > 5
    pd.testing.assert_frame_equal(again, rings)


def test_link_facts_count_each_members_links_and_its_longest_pool_link():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 40, 300)
    b = a + rng.integers(1, 20, 300)
    links = pd.DataFrame({"a": a, "b": b}).drop_duplicates().reset_index(drop=True)
    links["pool_hours"] = np.where(rng.random(len(links)) < 0.3, rng.integers(1, 50, len(links)), 0)
    numbers = np.array([0, 5, 17, 58, 70])  # 70 has no link at all
    facts = link_facts(links, numbers, pd.Series([f"acct{n}" for n in numbers]))
    for n in numbers:
        mine = links[(links["a"] == n) | (links["b"] == n)]
        pooled = mine[mine["pool_hours"] > 0]
        row = facts.loc[f"acct{n}"]
        assert row["strong"] == len(mine)
        assert row["pool_links"] == len(pooled)
        assert row["pool_hours"] == (pooled["pool_hours"].max() if len(pooled) else 0)
    assert facts.loc["acct70"].tolist() == [0, 0, 0] and facts.loc["acct5", "strong"] > 2
    empty = link_facts(links.iloc[:0], np.array([], dtype=np.int64), pd.Series([], dtype=str))
    assert empty.empty and list(empty.columns) == ["strong", "pool_links", "pool_hours"]


def test_the_store_holds_each_identifier_of_an_account_once_so_value_degrees_count_accounts(tmp_path):
    # The link table counts a value's accounts as its rows: it relies on the store holding
    # each (account, kind, value) once, whatever the files repeat.
    from test_ingest import SIGNUP_HEADER, write_csv

    from ringwatch.graph.load import ingest

    rows = [["a", "2024-03-01", "x@acme.example", "", "10.0.0.1", "dev-1", "US"],
            ["a", "2024-03-02", "x@acme.example", "", "10.0.0.2", "dev-1", "US"],  # a later copy of a
            ["b", "2024-03-01", "y@acme.example", "", "10.0.0.1", "dev-1", "US"],
            ["b", "2024-03-01", "y@acme.example", "", "10.0.0.1", "dev-1", "US"]]  # the same row twice
    first = write_csv(tmp_path / "one.csv", SIGNUP_HEADER, rows)
    second = write_csv(tmp_path / "two.csv", SIGNUP_HEADER, [*rows, ["c", "2024-03-05", "", "", "", "dev-1", ""]])
    with open_engine("embedded", tmp_path / "store.duckdb") as engine:
        for path in (first, second, first):
            ingest(engine, signups=path)
        repeated = engine.con.execute(
            "SELECT count(*) FROM (SELECT account_id, kind, value FROM identifiers GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        degrees = engine.identifier_degrees(min_accounts=2).set_index(["kind", "value"])["accounts"]
    assert repeated == 0
    assert degrees[("device", "dev-1")] == 3 and degrees[("ip", "10.0.0.1")] == 2
