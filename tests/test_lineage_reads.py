"""Questions about one ring, or about flagged rings, read only the lineage rows that name them.

Every detection run adds a lineage row per group (162,072 at 10,000,000 accounts), so the
pages parse just the rows a question needs: the answers equal those worked out from the
whole history, and the rows parsed are the ones named.
"""

from __future__ import annotations

import pandas as pd
import pytest
from ringwatch.graph.detection import lineage
from ringwatch.graph.engines import ledgers
from ringwatch.graph.engines.embedded.engine import EmbeddedEngine
from ringwatch.graph.reports import case_views, queue_views

RUNS = {
    "2026-11-02T00:00:00": [("new", "R-a", "", True), ("new", "R-b", "", False), ("new", "R-c", "", True),
                            ("new", "R-f", "", False)],
    "2026-11-09T00:00:00": [("grown", "R-a", "", True), ("merged", "R-d", "R-b,R-c", True),
                            ("shrunk", "R-f", "", True)],
    "2026-11-16T00:00:00": [("split", "R-d", "R-d,R-e", True), ("shrunk", "R-d", "", True),
                            ("new", "R-e", "R-d", False), ("new", "R-g", "R-a,R-f", True),
                            ("dissolved", "R-a", "", True), ("dissolved", "R-f", "", True)],
}
RINGS = ["R-a", "R-b", "R-c", "R-d", "R-e", "R-f", "R-g", "R-z"]


@pytest.fixture
def engine(db_path):
    with EmbeddedEngine(db_path) as store:
        for run_at, events in RUNS.items():
            rows = pd.DataFrame([{"run_at": run_at, "data_until": run_at, "flagged": flagged, "event": event,
                                  "ring_id": ring, "related_ids": related, "size_before": 4, "size_after": 5,
                                  "joined": 1, "left": 0} for event, ring, related, flagged in events])
            store.append_records("lineage", rows[lineage.HISTORY_COLUMNS])
        yield store


@pytest.fixture
def parsed(monkeypatch):
    """How many ledger rows each read parsed."""
    counts = []
    real = ledgers.ledger_frame
    monkeypatch.setattr(ledgers, "ledger_frame", lambda seqs, bodies: counts.append(len(seqs)) or real(seqs, bodies))
    return counts


def _whole_first_flagged(runs: pd.DataFrame) -> pd.Series:
    flagged = runs[runs["flagged"] & ~runs["event"].isin(["split", "dissolved"])]
    when = pd.to_datetime(flagged["data_until"].fillna(flagged["run_at"]), utc=True).dt.tz_localize(None)
    return when.groupby(flagged["ring_id"].to_numpy()).min()


def _whole_earlier(runs: pd.DataFrame, ring_id: str) -> dict[str, str]:
    """Every ring's sources from the whole history at once, then the walk back from ``ring_id``."""
    sources: dict[str, dict[str, str]] = {}
    for event, rid, related in zip(runs["event"], runs["ring_id"], runs["related_ids"]):
        parts = [r for r in related.split(",") if r]
        for r in parts:
            if r != rid and event in ("new", "merged"):
                sources.setdefault(rid, {}).setdefault(r, "merged into it" if event == "merged"
                                                       else "members came from it")
            elif r != rid and event == "split":
                sources.setdefault(r, {})[rid] = "split from it"
    found, frontier = {}, [ring_id]
    while frontier:
        for earlier, how in sorted(sources.get(frontier.pop(), {}).items()):
            if earlier != ring_id and earlier not in found:
                found[earlier] = how
                frontier.append(earlier)
    return found


def test_first_flagged_parses_only_the_flagged_rows_and_answers_as_the_whole_history(engine, parsed):
    whole = lineage.history(engine)
    parsed.clear()
    got = queue_views.first_flagged(engine)
    assert parsed == [int(whole["flagged"].sum())] and parsed[0] < len(whole)
    pd.testing.assert_series_equal(got, _whole_first_flagged(whole))
    assert set(got.index) == {"R-a", "R-c", "R-d", "R-f", "R-g"}


def test_a_rings_history_and_the_rings_it_came_from_read_the_rows_naming_it(engine, parsed):
    whole = lineage.history(engine)
    for ring in RINGS:
        parsed.clear()
        history = case_views.ring_history(engine, ring)
        named = (whole["ring_id"] == ring) | whole["related_ids"].str.split(",").map(lambda ids, r=ring: r in ids)
        assert parsed == [int(named.sum())]
        want = whole.loc[named, case_views.RING_HISTORY_COLUMNS].reset_index(drop=True)
        assert list(history.columns) == list(want.columns)
        if len(want):
            pd.testing.assert_frame_equal(history, want)
        else:
            assert history.empty
        earlier = case_views.earlier_rings(engine, ring)
        assert dict(zip(earlier["ring_id"], earlier["how"])) == _whole_earlier(whole, ring)
    assert dict(zip(*case_views.earlier_rings(engine, "R-e")[["ring_id", "how"]].T.values)) == {
        "R-b": "merged into it", "R-c": "merged into it", "R-d": "split from it"}
    assert set(case_views.earlier_rings(engine, "R-g")["ring_id"]) == {"R-a", "R-f"}


def test_a_ledger_read_can_keep_only_rows_holding_a_text(engine):
    every = engine.records("lineage")
    some = engine.records("lineage", containing="R-d")
    assert list(some.columns) == list(every.columns)
    assert some["seq"].tolist() == [s for s, r, rel in zip(every["seq"], every["ring_id"], every["related_ids"])
                                    if "R-d" in r or "R-d" in rel]
    assert engine.records("lineage", containing="no such text").empty
