"""Numbers that agree: the review counts only its window, every page counts the same rings, charts read true."""

from __future__ import annotations

import pandas as pd
import pytest
from casework_store import make_worked_store
from dashboard_store import open_app
from ringwatch.dashboard import charts
from ringwatch.graph.casework.exports import rings_table
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import review, review_charts, views
from ringwatch.graph.reports.review_page import review_figures, scope_text, window_text


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    return make_worked_store(tmp_path_factory.mktemp("window"))


@pytest.fixture
def engine(worked):
    with open_engine("embedded", worked["db"]) as eng:
        yield eng


def test_the_default_window_holds_whole_days_up_to_the_last_day_of_data(engine, worked):
    rev = review.build_review(engine)
    last = worked["last"]
    assert rev.end == last.floor("D") + pd.Timedelta(days=1)
    assert rev.since == (last - pd.Timedelta(days=7)).ceil("D") and rev.since.hour == 0
    assert rev.until == last
    text = window_text(rev)
    assert text.startswith(f"Window: {rev.since:%a} {rev.since.day} {rev.since:%b %Y} to ")
    assert f"usage data up to {last:%d %b %Y %H:%M}" in text


def test_decisions_and_bans_recorded_after_the_window_are_not_counted(engine, worked):
    rev = review.build_review(engine)
    made = rev.tables["decisions made"]
    # only ann's decision on ring A was recorded inside the window; zed's two came after it
    assert rev.counts["decisions made"] == 1 and list(made["target"]) == [worked["a"]]
    assert rev.counts["accounts newly banned"] == worked["batch_a"]["size"]
    assert set(rev.tables["bans issued and reversed"]["batch_id"]) == {worked["batch_a"]["batch_id"]}
    # and the review says what it left out
    assert rev.after["decisions"] == 2 and rev.after["ban and unban events"] == worked["batch_c"]["size"]
    assert "Not counted: 2 decisions" in scope_text(rev)


def test_a_window_reaching_today_counts_them(engine, worked):
    today = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
    rev = review.build_review(engine, since=str(worked["last"].date()), until=today)
    assert rev.counts["decisions made"] == 3 and rev.after == {"decisions": 0, "ban and unban events": 0}
    assert rev.counts["accounts newly banned"] == worked["batch_a"]["size"] + worked["batch_c"]["size"]


def test_an_explicit_last_day_is_included_whole(engine, worked):
    day = worked["last"].floor("D")
    rev = review.build_review(engine, since=str(day.date()), until=str(day.date()))
    assert (rev.since, rev.end) == (day, day + pd.Timedelta(days=1))
    assert window_text(rev).startswith(f"Window: {day:%a} {day.day} {day:%b %Y} (UTC, 1 whole day)")
    daily = rev.chart_data["daily"]
    assert set(daily["day"]) == {f"{day:%Y-%m-%d}"}


def test_week_over_week_stops_at_the_windows_end(engine, worked):
    rev = review.build_review(engine)
    weeks = rev.tables["week over week"]
    assert (pd.to_datetime(weeks["week"]) < rev.end).all()
    assert weeks["decisions"].sum() == 1 and weeks["accounts newly banned"].sum() == worked["batch_a"]["size"]


def test_week_over_week_gives_each_measure_its_own_axis():
    weeks = pd.DataFrame({"week": ["2026-11-02", "2026-11-09"], "new": [3, 1], "grown": [0, 2], "split": [0, 0],
                          "dissolved": [0, 1], "decisions": [5, 4], "accounts newly banned": [273, 1200]})
    fig = review_charts.week_over_week(weeks)
    axis = {t.name: t.yaxis for t in fig.data}
    assert axis["new"] == axis["grown"] == axis["dissolved"] == "y"
    assert axis["decisions"] == "y2" and axis["accounts newly banned"] == "y3"
    assert fig.layout.yaxis.title.text == "rings" and fig.layout.yaxis3.title.text == "accounts"


def test_overview_rings_page_export_and_review_count_the_same_rings(engine, worked, monkeypatch):
    head = views.headline(engine)
    rings = engine.results("rings")
    flagged = int(rings["flagged"].sum())
    # ring B was marked a false positive: held back, not flagged, and counted as such everywhere
    assert head["rings"] == flagged == len(rings_table(engine)) and head["rings_held_back"] == 1
    rev = review.build_review(engine)
    assert rev.state["rings flagged"] == flagged and rev.state["rings held back as false positives"] == 1
    monkeypatch.setenv("RINGWATCH_DB", str(worked["db"]))
    at = open_app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rings flagged"] == f"{flagged:,}"
    assert metrics["Rings held back as false positives"] == "1"
    at = open_app("app_pages/rings.py")
    listed = views.ring_list(engine)
    caption = next(c.value for c in at.caption if "groups match" in c.value)
    assert f"{len(listed)} of {len(listed)} groups match ({flagged} rings flagged, 1 ring held back as a false positive)" in caption


def test_log_axes_label_every_tick_in_full(engine):
    fig = charts.rings_scatter(views.ring_list(engine, True))
    axis = fig.layout.xaxis
    assert axis.type == "log" and list(axis.ticktext) == [f"{v:,.0f}" for v in axis.tickvals]
    assert all(str(int(v))[0] in "125" and set(str(int(v))[1:]) <= {"0"} for v in axis.tickvals)
    ticks, labels = review_charts.log_ticks([3, 2500])
    assert labels == ["10", "100", "1,000"] and ticks == [10, 100, 1000]


def test_benign_groups_on_one_point_are_drawn_once_and_every_flagged_ring_apart():
    rings = pd.DataFrame({"ring_id": ["b3", "b1", "b2", "r2", "r1", "b4"], "size": [4, 4, 4, 4, 4, 5],
                          "risk_score": [0.2101, 0.2104, 0.2102, 0.9, 0.9, 0.2101],
                          "flagged": [False, False, False, True, True, False]})
    benign, flagged = charts.rings_scatter(rings).data
    assert list(benign.customdata) == ["b1", "b4"]  # the lowest id opens; b4 differs in size
    assert list(benign.y) == [0.2104, 0.2101]
    assert "b1 and 2 other groups here<br>4 accounts" in benign.hovertext[0] and "other" not in benign.hovertext[1]
    assert sorted(flagged.customdata) == ["r1", "r2"]


def test_the_evidence_legend_matches_the_bars():
    breakdown = pd.DataFrame({"feature": ["burst", "org", "identity"], "value": [1.0, 0.5, 0.9],
                              "contribution": [2.1, -0.7, 1.3]})
    fig = charts.breakdown_chart(breakdown)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"raises the score", "lowers the score"}
    for name, trace in by_name.items():
        assert isinstance(trace.marker.color, str)  # one colour per legend entry: the swatch is the bars' colour
        assert all((c > 0) == (name == "raises the score") for c in trace.x)
    assert by_name["raises the score"].marker.color != by_name["lowers the score"].marker.color


def test_every_review_chart_has_a_one_line_note(engine):
    rev = review.build_review(engine, since="2000-01-01")
    figures = review_figures(rev)
    assert figures and all(rev.notes.get(title) for title in figures)
    assert all(rev.notes.get(title) for title in rev.tables)
