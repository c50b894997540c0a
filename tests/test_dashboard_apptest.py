"""Every dashboard page run headless with Streamlit's AppTest on a small demo store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_store import (APP, APP_TIMEOUT, FORMULA, IMG, PAYLOAD_ACCOUNT, SCRIPT, add_synthetic_ring,
                             make_demo_store, open_app)
from ringwatch.graph.engines import open_engine



@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = make_demo_store(tmp_path_factory.mktemp("apptest"))
    big = add_synthetic_ring(db)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
        accounts = engine.accounts()
    top = rings[rings["flagged"] & (rings["ring_id"] != big)].sort_values("risk_score", ascending=False).iloc[0]
    member = accounts[accounts["account_id"] == top["cluster_id"]].iloc[0]
    return {"db": db, "big": big, "top": top["ring_id"], "member": member}


@pytest.fixture
def app(store, monkeypatch):
    monkeypatch.setenv("RINGWATCH_DB", str(store["db"]))

    def run(page: str | None = None, **state) -> AppTest:
        return open_app(page, **state)

    return run


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.text] + [str(e.value) for e in at.caption]
    parts += [e.value for e in at.json] + [e.value.to_csv() for e in at.dataframe]
    return "\n".join(parts)


def _charts(at) -> list:
    return at.get("plotly_chart")


def test_overview_shows_headline_figures_and_charts(app):
    at = app()
    assert at.title[0].value == "ringwatch overview"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Accounts"] == "5,000"  # 3,000 demo accounts plus the 2,000-account synthetic ring
    assert int(labels["Rings flagged"]) >= 2
    assert labels["Requests from flagged"].endswith("%")
    # risk histogram, rings scatter, signups, hubs
    assert len(_charts(at)) == 4
    assert not at.error


def test_rings_page_shows_the_top_ring_with_every_view(app, store):
    at = app("app_pages/rings.py")
    assert at.selectbox(key="ring").value == store["top"]
    assert [t.label for t in at.tabs] == ["Network", "Timeline", "Evidence", "Members", "History", "Decision"]
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Risk score"]) >= 0.5
    # tabs are lazy: only the open one runs
    assert len(_charts(at)) == 1 and not at.get("download_button")
    expected = {"Timeline": (2, 0), "Evidence": (1, 0), "Members": (0, 1), "History": (1, 0), "Decision": (0, 0)}
    for tab, (charts_shown, downloads) in expected.items():
        at.session_state["ring_view"] = tab
        at.run()
        assert not at.exception, tab
        assert (len(_charts(at)), len(at.get("download_button"))) == (charts_shown, downloads), tab
    assert any("burst" in s.value or "scored" in s.value for s in at.subheader) or at.dataframe


def test_rings_page_opens_the_big_ring_and_caps_the_heatmap(app, store):
    at = app("app_pages/rings.py")
    at.selectbox(key="ring").set_value(store["big"]).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Accounts"] == "2,000"
    assert len(_charts(at)) == 1
    at.session_state["ring_view"] = "Timeline"
    at.run()
    assert any("busiest" in w.value for w in at.warning)


def test_rings_filters_can_empty_the_table(app):
    at = app("app_pages/rings.py")
    at.slider(key="min_score").set_value(1.0).run()
    assert not at.exception
    assert any("No ring matches" in i.value for i in at.info)


def test_lookup_normalises_email_and_shows_neighbourhood(app, store):
    email = store["member"]["email"]
    local, domain = email.split("@")
    query = f"{local[:3].upper()}.{local[3:]}+anything@{domain.upper()}" if domain == "gmail.com" else email.upper()
    at = app("app_pages/lookup.py", query=query)
    assert at.selectbox(key="account").value == store["member"]["account_id"]
    assert len(_charts(at)) == 3  # usage over time, beside the ring's members, neighbourhood
    assert "Neighbourhood" in "\n".join(s.value for s in at.subheader)


def test_lookup_without_match_warns(app):
    at = app("app_pages/lookup.py", query="nobody-at-all@example.org")
    assert any("No account matches" in w.value for w in at.warning)


def test_ban_list_preview_and_download(app):
    at = app("app_pages/bans.py")
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["Accounts banned"].replace(",", "")) > 2000
    assert at.get("download_button")


def test_ban_list_narrowed_to_one_ring(app, store):
    at = app("app_pages/bans.py", ban_rings=[store["top"]])
    labels = {m.label: m.value for m in at.metric}
    assert labels["Rings"] == "1"


def test_injection_payloads_are_shown_as_text(app):
    at = app("app_pages/lookup.py", query=PAYLOAD_ACCOUNT, field="account_id")
    shown = _texts(at)
    for payload in (SCRIPT, IMG, FORMULA):
        assert payload in shown
    # the payloads are never rendered through markdown (which would interpret HTML)
    assert not any(p in m.value for m in at.markdown for p in (SCRIPT, IMG))


def test_missing_store_shows_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RINGWATCH_DB", str(tmp_path / "missing.duckdb"))
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    assert "does not exist" in at.error[0].value


def test_store_without_results_shows_a_clear_error(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    with open_engine("embedded", db):
        pass
    monkeypatch.setenv("RINGWATCH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    assert "ringwatch detect" in at.error[0].value


def test_weekly_review_page_shows_the_report_content(app):
    at = app("app_pages/review.py")
    assert at.title[0].value == "Weekly review"
    assert any(str(c.value).startswith("Window:") for c in at.caption)
    labels = {m.label for m in at.metric}
    assert {"New or grown rings", "Accounts newly banned", "Decisions made"} <= labels
    assert len(_charts(at)) >= 3  # rings by size and risk, requests and output tokens per day
    subheaders = "\n".join(s.value for s in at.subheader)
    assert "Top rings by requests" in subheaders and "Week over week" in subheaders
    assert at.get("download_button")
