"""The demo over several weeks: weekly batches, ring ids kept, lineage history, labels, and the review across weeks."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from ringwatch.cli import main
from ringwatch.graph.engine import open_engine
from ringwatch.graph.lineage import history
from ringwatch.graph.review import build_review, render_html
from ringwatch.ingest.weeks import generate_weeks

ACCOUNTS, SEED, WEEKS = 3000, 3, 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weeks")
    db = folder / "weeks.duckdb"
    result = CliRunner().invoke(main, ["demo", "--weeks", str(WEEKS), "--accounts", str(ACCOUNTS), "--seed", str(SEED),
                                       "--out", str(folder / "out"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return {"db": db, "folder": folder, "output": result.output}


def test_batches_follow_the_fates_and_labels_stay_consistent(tmp_path):
    scenario = generate_weeks(tmp_path, weeks=WEEKS, accounts=ACCOUNTS, seed=SEED)
    signups = pd.concat([pd.read_parquet(w.signups).assign(week=w.week) for w in scenario.weeks])
    labels = pd.concat([pd.read_parquet(w.labels).assign(week=w.week) for w in scenario.weeks])
    usage = pd.concat([pd.read_parquet(w.usage).assign(week=w.week) for w in scenario.weeks])
    assert signups["account_id"].is_unique and len(signups) == ACCOUNTS
    # every account's label arrives in the week the account does
    both = signups.merge(labels, on="account_id", suffixes=("", "_label"))
    assert len(both) == ACCOUNTS and (both["week"] == both["week_label"]).all()
    assert both.loc[both["label"] == "fraud", "ring_id"].notna().all()
    assert both.loc[both["label"] == "legit", "ring_id"].isna().all()
    # no usage before the account's batch or its signup, and usage stays inside its week
    use = usage.merge(signups[["account_id", "created_at", "week"]], on="account_id", suffixes=("", "_signup"))
    assert len(use) == len(usage) and (use["week"] >= use["week_signup"]).all()
    assert (use["ts"] >= use["created_at"]).all()
    for w in scenario.weeks:
        part = usage[usage["week"] == w.week]
        assert ((part["ts"] >= w.start) & (part["ts"] < w.end)).all()
    ring_week = both[both["label"] == "fraud"].groupby("ring_id")["week"]
    fates = scenario.fates
    grown = [r for r, f in fates.items() if f == "grow"]
    assert any(ring_week.get_group(r).nunique() > 1 for r in grown)  # members join later
    assert all(ring_week.get_group(r).min() > 1 for r, f in fates.items() if f == "new")
    quiet = [r for r, f in fates.items() if f == "quiet"]
    last_week = usage.merge(both[["account_id", "ring_id"]], on="account_id").groupby("ring_id")["week"].max()
    assert quiet and all(last_week.get(r, 0) <= ring_week.get_group(r).max() for r in quiet)


def test_ring_ids_persist_and_lineage_accumulates(demo):
    with open_engine("embedded", demo["db"]) as engine:
        runs = history(engine)
        labels = engine.labels()
    assert runs["run_at"].nunique() == WEEKS
    per_run = [g for _, g in runs.groupby("run_at", sort=True)]
    # the first run sees every ring for the first time
    assert set(per_run[0]["event"]) == {"new"}
    later = pd.concat(per_run[1:])
    assert later["event"].isin(["grown", "new", "split", "dissolved"]).any()
    # a ring that persists keeps its id: an unchanged/grown/shrunk event names a ring of the previous run
    for before, after in zip(per_run, per_run[1:]):
        kept = after[after["event"].isin(["unchanged", "grown", "shrunk"])]
        assert len(kept) and set(kept["ring_id"]) <= set(before["ring_id"])
        assert (kept["size_before"] > 0).all()
    assert "week 3" in demo["output"] and "grown" in demo["output"]
    assert len(labels) == ACCOUNTS and labels.loc[labels["label"] == "fraud", "ring_id"].notna().all()


def test_review_over_the_weeks_has_week_over_week_rows(demo):
    with open_engine("embedded", demo["db"]) as engine:
        review = build_review(engine, since="2000-01-01")
        runs = history(engine)
    weeks = review.tables["week over week"]
    assert len(weeks) == WEEKS
    flagged_new = runs[runs["flagged"] & (runs["event"] == "new")]
    assert weeks["new"].sum() == flagged_new.drop_duplicates(["run_at", "ring_id"]).shape[0]
    page = render_html(review)
    assert page.count("plotly.js v") == 1 and page.count("Plotly.newPlot") == 4  # plotly.js inlined once, four charts
    assert "Week over week" in page and f"week over week ({WEEKS} rows)" in page
