"""The demo over several weeks: weekly batches, ring ids kept, lineage history, labels, the designed split,
quiet rings, and the review across weeks."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from ringwatch.cli import main
from ringwatch.graph.engines import open_engine
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.detection.lineage import history
from ringwatch.graph.load import ingest
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.reports.review import build_review
from ringwatch.graph.reports.review_page import render_html
from ringwatch.scenarios.weeks import BRIDGE, SPLIT_KINDS, generate_weeks

ACCOUNTS, SEED, WEEKS = 3000, 3, 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weeks")
    db = folder / "weeks.duckdb"
    result = CliRunner().invoke(main, ["demo", "--weeks", str(WEEKS), "--accounts", str(ACCOUNTS), "--seed", str(SEED),
                                       "--out", str(folder / "out"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return {"db": db, "folder": folder, "output": result.output}


@pytest.fixture(scope="module")
def scenario(demo):
    """The demo's scenario: the same (accounts, seed, weeks) give the same files, fates and bridge accounts."""
    return generate_weeks(demo["folder"] / "again", weeks=WEEKS, accounts=ACCOUNTS, seed=SEED)


def _week_files(demo, name: str) -> pd.DataFrame:
    folders = sorted((demo["folder"] / "out" / "data").glob("week_*"))
    return pd.concat([pd.read_parquet(f / f"{name}.parquet").assign(week=int(f.name[5:])) for f in folders])


def test_batches_follow_the_fates_and_labels_stay_consistent(scenario):
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
    quiet = scenario.quiet_weeks
    assert quiet and set(quiet) == {r for r, f in fates.items() if f == "quiet"}
    assert WEEKS in quiet.values()  # one goes quiet in the last week, the default review window
    last_week = usage.merge(both[["account_id", "ring_id"]], on="account_id").groupby("ring_id")["week"].max()
    for ring, week in quiet.items():
        # quiet only after its last member signed up; requests until the week before, none after
        assert ring_week.get_group(ring).max() < week and last_week[ring] == week - 1


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
    assert "Week over week" in page and f"Week over week<span class='rows'>{WEEKS} rows" in page


def test_the_split_group_shares_a_reseller_machine(scenario, demo):
    fates = scenario.fates
    group = sorted(r for r, f in fates.items() if f == "split")
    signups, labels = _week_files(demo, "signups"), _week_files(demo, "labels")
    assert signups["account_id"].is_unique
    kinds = labels.dropna(subset=["ring_id"]).groupby("ring_id")["scenario"].first()
    assert len(group) >= 2 and set(kinds[group]) <= set(SPLIT_KINDS)
    bridge = signups[signups["account_id"].isin(scenario.bridge_accounts)].merge(labels[["account_id", "ring_id"]])
    # a few accounts of every ring in the group, all signing up from one machine in one week
    assert len(bridge) == BRIDGE * len(group) and (bridge.groupby("ring_id").size() == BRIDGE).all()
    assert set(bridge["ring_id"]) == set(group)
    assert bridge["device_id"].nunique() == 1 and bridge["ip"].nunique() == 1 and bridge["week"].nunique() == 1
    # nobody outside the bridge uses the reseller's device; the group's rings grow after that week
    assert (signups["device_id"] == bridge["device_id"].iloc[0]).sum() == len(bridge)
    members = labels[labels["ring_id"].isin(group)]
    assert (members.groupby("ring_id")["week"].max() > bridge["week"].iloc[0]).all()


def test_the_bridged_ring_splits_and_keeps_its_id_until_then(scenario, demo, tmp_path):
    """Replay detection up to the week the bridge appears: the one ring found there is the one that splits later."""
    signups = _week_files(demo, "signups")
    first = int(signups.loc[signups["account_id"].isin(scenario.bridge_accounts), "week"].iloc[0])
    assert first < WEEKS
    with open_engine("embedded", tmp_path / "replay.duckdb") as engine:
        for week in scenario.weeks[:first]:
            ingest(engine, signups=str(week.signups), usage=str(week.usage), labels=str(week.labels))
        detect(engine, DetectionParams(seed=SEED))
        accounts, rings, labels = engine.results("accounts"), engine.results("rings"), engine.labels()
    bridged = accounts[accounts["account_id"].isin(scenario.bridge_accounts)]
    assert bridged["ring_id"].notna().all() and bridged["ring_id"].nunique() == 1
    ring = bridged["ring_id"].iloc[0]
    members = accounts[accounts["ring_id"] == ring].merge(labels[["account_id", "ring_id"]], on="account_id",
                                                           suffixes=("", "_truth"))
    # the operators' rings are one ring that week, under the size at which detection looks inside components
    assert members["ring_id_truth"].nunique() >= 2 and len(members) < DetectionParams().split_min_size
    assert rings.set_index("ring_id").at[ring, "flagged"]
    with open_engine("embedded", demo["db"]) as engine:
        runs = history(engine)
        final, truth = engine.results("accounts"), engine.labels()
    split = runs[(runs["event"] == "split") & (runs["ring_id"] == ring)]
    assert len(split) == 1 and split["flagged"].iloc[0]
    assert len(split["related_ids"].iloc[0].split(",")) >= 2
    # until the split the ring kept its id: every run from the bridge's week to the split names it
    per_run = sorted(runs["run_at"].unique())
    split_run = per_run.index(split["run_at"].iloc[0])
    for run in per_run[first - 1:split_run]:
        assert ring in set(runs.loc[runs["run_at"] == run, "ring_id"])
    # after the split the operators sit in different rings
    group = [r for r, f in scenario.fates.items() if f == "split"]
    ops = final.merge(truth[["account_id", "ring_id"]], on="account_id", suffixes=("", "_truth"))
    ops = ops[ops["ring_id_truth"].isin(group) & ops["ring_id"].notna()]
    main_ring = ops.groupby("ring_id_truth")["ring_id"].agg(lambda r: r.value_counts().index[0])
    assert main_ring.nunique() >= 2


def test_the_review_lists_the_rings_that_went_quiet(scenario, demo):
    with open_engine("embedded", demo["db"]) as engine:
        review = build_review(engine)
        accounts, labels, runs = engine.results("accounts"), engine.labels(), history(engine)
        flagged_rings = engine.results("rings")
    last = scenario.weeks[-1]
    assert review.since == last.start.tz_convert("UTC").tz_localize(None)  # the default window is the last week
    quiet = review.tables["rings gone quiet"]
    assert review.counts["rings gone quiet"] == len(quiet) > 0
    assert list(quiet.columns) == ["ring_id", "size", "risk_score", "requests_week_before", "last_request"]
    truth = accounts.dropna(subset=["ring_id"]).merge(labels[["account_id", "ring_id"]], on="account_id",
                                                      suffixes=("", "_truth"))
    rings_of = truth.groupby("ring_id")["ring_id_truth"].agg(set)
    going = {r for r, w in scenario.quiet_weeks.items() if w == last.week}
    # every ring reported quiet is made of rings that went quiet this week, and sent nothing in it
    for ring in quiet["ring_id"]:
        assert rings_of[ring] <= going
    assert (quiet["requests_week_before"] > 0).all()
    assert (pd.to_datetime(quiet["last_request"]) < review.since).all()
    assert (pd.to_datetime(quiet["last_request"]) >= review.since - pd.Timedelta(days=7)).all()
    # and every flagged ring made only of such rings is reported
    flagged = set(flagged_rings.loc[flagged_rings["flagged"].astype(bool), "ring_id"])
    expected = {r for r, t in rings_of.items() if t <= going and r in flagged}
    assert set(quiet["ring_id"]) == expected
    # a quiet ring is still a ring: the last run did not dissolve it
    last_run = runs[runs["run_at"] == runs["run_at"].max()]
    assert not last_run[last_run["ring_id"].isin(quiet["ring_id"])]["event"].isin(["dissolved", "split"]).any()
    assert review.activity
    assert f"Rings gone quiet<span class='rows'>{len(quiet)} rows" in render_html(review)


def _grown_ring(db) -> str:
    """A flagged ring of the last run that kept its id through every run and grew on the way."""
    with open_engine("embedded", db) as engine:
        runs = history(engine)
        rings = engine.results("rings")
    kept = runs[runs["event"].isin(["new", "grown", "unchanged", "shrunk"])]
    through = kept.groupby("ring_id")["run_at"].nunique()
    grew = set(runs.loc[runs["event"] == "grown", "ring_id"])
    flagged = set(rings.loc[rings["flagged"].astype(bool), "ring_id"])
    candidates = sorted(r for r in through[through == WEEKS].index if r in grew and r in flagged)
    assert candidates, "no ring kept its id through every week and grew"
    return candidates[0]


def test_the_dashboard_shows_a_rings_history_across_the_weeks(demo, monkeypatch):
    from dashboard_store import open_app

    ring = _grown_ring(demo["db"])
    monkeypatch.setenv("RINGWATCH_DB", str(demo["db"]))
    at = open_app("app_pages/rings.py", ring=ring)
    at.session_state["ring_view"] = "History"
    at.run()
    assert not at.exception
    assert any(f"Ring id {ring} kept through {WEEKS} detection run(s)" in c.value for c in at.caption)
    events = at.dataframe[-1].value
    assert list(events["event"])[::-1][:1] == ["new"] and "grown" in set(events["event"])
    at.switch_page("app_pages/review.py").run()
    subheaders = "\n".join(s.value for s in at.subheader)
    assert "Rings gone quiet" in subheaders and "Ring changes" in subheaders


@pytest.mark.browser
def test_the_weekly_cycle_in_the_browser(demo):
    from browser_support import WAIT_MS, chromium, new_page, plot_ready, serve_dashboard, settled, shot

    ring = _grown_ring(demo["db"])
    with serve_dashboard(demo["db"], demo["folder"]) as url, chromium() as browser, new_page(browser) as page:
        page.goto(f"{url}/review")
        plot_ready(page, "review_chart_3", "Week over week")
        settled(page)
        assert page.get_by_text("Rings gone quiet").count() >= 1
        shot(page, "weekly-review-3-weeks", 3000)
        page.goto(f"{url}/rings?ring={ring}")
        page.get_by_role("tab", name="History").click(timeout=WAIT_MS)
        plot_ready(page, "ring_history", "Members after each detection run")
        settled(page)
        shot(page, "ring-history-3-weeks", 1500)
        assert page.dialogs == []


def test_demo_analysts_work_every_week_and_the_review_files_it_by_week(demo):
    from ringwatch.graph.casework import audit
    from ringwatch.graph.casework import bans
    from ringwatch.graph.casework import decisions
    from ringwatch.graph.demo.analysts import ANALYST, APPROVER, REVIEW_PER_WEEK

    with open_engine("embedded", demo["db"]) as engine:
        made = decisions.decisions(engine)
        listed = bans.batches(engine)
        state = bans.ban_state(engine)
        labels = engine.labels()
        review = build_review(engine)
        everything = build_review(engine, since="2000-01-01")
        assert audit.verify(engine).ok
    assert demo["output"].count("demo analysts:") == WEEKS
    assert set(made["analyst"]) == {ANALYST} and len(made) <= REVIEW_PER_WEEK * WEEKS
    # every verdict agrees with the ground truth it claims to read
    fraud = set(labels.loc[labels["label"] == "fraud", "account_id"])
    for row in made.to_dict("records"):
        share = sum(m in fraud for m in row["members"]) / len(row["members"])
        assert (row["verdict"] == "confirmed_fraud") == (share > 0.5), row["target"]
    # batches above the four-eyes size were approved by the other analyst
    big = listed[listed["needs_approval"].astype(bool)]
    assert (big["approver"] == APPROVER).all() and (listed["status"] == "approved").all()
    # one reversal a week from week 2, each visible in the ban state
    unbanned = state[~state["banned"]]
    assert len(unbanned) == WEEKS - 1
    # the default window is the last week: only that week's decisions and bans
    last_week = made[pd.to_datetime(made["at"]).dt.tz_localize(None) >= review.since]
    assert review.counts["decisions made"] == len(last_week) > 0
    assert review.counts["bans reversed"] == 1
    weeks = everything.tables["week over week"]
    assert weeks["decisions"].sum() == len(made) and (weeks.set_index("week")["decisions"] > 0).sum() == WEEKS
