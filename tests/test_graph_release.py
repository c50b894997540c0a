"""A detection run lets go of the tables its graph questions built, and the next run builds them again."""

from __future__ import annotations

import pandas as pd
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
