"""The ring network tab and lookup's neighbourhood run headless with Streamlit's AppTest."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from dashboard_store import (
    ACCOUNT_COLS,
    PAYLOAD_ACCOUNT,
    SCRIPT,
    add_synthetic_ring,
    make_demo_store,
    open_app,
)
from ringwatch.dashboard import network_panel
from ringwatch.graph.engines import open_engine


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = make_demo_store(tmp_path_factory.mktemp("network-apptest"))
    big = add_synthetic_ring(db)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
        # an account whose values nobody else holds
        lone = pd.DataFrame({c: [None] for c in ACCOUNT_COLS}).assign(
            account_id="loner_1", created_at=pd.Timestamp("2026-11-02"), email="loner@example.org",
            device_id="dev-loner-only")
        engine.load_accounts(lone, pd.DataFrame({"account_id": "loner_1", "kind": ["email", "device"],
                                                 "value": ["loner@example.org", "dev-loner-only"]}))
    demo = rings[rings["flagged"] & (rings["ring_id"] != big)]
    largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    return {"db": db, "big": big, "largest": largest["ring_id"], "largest_size": int(largest["size"])}


@pytest.fixture
def app(store, monkeypatch):
    monkeypatch.setenv("RINGWATCH_DB", str(store["db"]))
    return open_app


def _figure(at, key: str) -> dict:
    charts = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    assert len(charts) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return json.loads(charts[0].proto.spec)


def _nodes(figure: dict) -> list[list]:
    return [c for t in figure["data"] for c in t.get("customdata") or []]


def test_the_network_tab_draws_the_ring_clickable(app, store):
    at = app("app_pages/rings.py", ring=store["largest"])
    assert at.toggle(key="net_discounted").value is False
    figure = _figure(at, "ring_network")
    nodes = _nodes(figure)
    assert sum(n[0] == "account" for n in nodes) == store["largest_size"]
    assert any(n[0] == "value" for n in nodes)
    assert store["largest"] in figure["layout"]["title"]["text"]
    assert any("Click an account to open it in lookup" in c.value for c in at.caption)
    # the discounted values can be shown; the picture is the same ring
    at.toggle(key="net_discounted").set_value(True).run()
    assert not at.exception
    assert sum(n[0] == "account" for n in _nodes(_figure(at, "ring_network"))) == store["largest_size"]


def test_a_large_ring_is_summarised_with_a_notice(app, store):
    at = app("app_pages/rings.py", ring=store["big"])
    assert any("Large ring: 2,000 accounts" in i.value for i in at.info)
    nodes = _nodes(_figure(at, "ring_network"))
    assert nodes and all(n[0] == "value" for n in nodes)
    assert ["value", "device", SCRIPT] in nodes


def test_an_account_opened_from_a_network_shows_in_lookup(app, store):
    # what a click on an account node leaves in the session before switching page (network_panel.open_in_lookup)
    at = app("app_pages/lookup.py", query="synth_00001", field="account_id", account="synth_00001")
    assert at.selectbox(key="account").value == "synth_00001"
    figure = _figure(at, "neighbourhood")
    assert "synth_00001" in figure["layout"]["title"]["text"]
    names = [t.get("name") or "" for t in figure["data"]]
    assert "this account" in names and any(n.startswith("ring ") for n in names)
    assert any("not followed" in i.value for i in at.info)


def test_expanding_a_node_grows_the_neighbourhood(app):
    before = _nodes(_figure(app("app_pages/lookup.py", query="synth_00001", field="account_id"), "neighbourhood"))
    grown = app("app_pages/lookup.py", query="synth_00001", field="account_id",
                neighbourhood_expanded=("synth_00001", [("value", "user_agent", "farmbot/1.0")]))
    after = _nodes(_figure(grown, "neighbourhood"))
    assert len(after) > len(before)
    # the expansion belongs to the account it was made on
    other = app("app_pages/lookup.py", query="synth_00002", field="account_id",
                neighbourhood_expanded=("synth_00001", [("value", "user_agent", "farmbot/1.0")]))
    assert len(_nodes(_figure(other, "neighbourhood"))) < len(after)


def test_an_account_sharing_nothing_with_evidence_says_so(app):
    at = app("app_pages/lookup.py", query="loner@example.org", field="email")
    assert at.selectbox(key="account").value == "loner_1"
    assert any("shares no identifier value that carries evidence" in i.value for i in at.info)
    assert not [c for c in at.get("plotly_chart") if "neighbourhood" in (c.proto.id or "")]


def test_payload_account_neighbourhood_renders(app):
    at = app("app_pages/lookup.py", query=PAYLOAD_ACCOUNT, field="account_id")
    nodes = _nodes(_figure(at, "neighbourhood"))
    assert ["value", "device", SCRIPT] in nodes
    assert not at.exception


@pytest.mark.parametrize(("points", "node"), [
    ([], None),
    ([{"customdata": ["account", "acct_1", ""]}], ("account", "acct_1", "")),
    ([{"x": 1.0}, {"customdata": ["value", "payment", "pm_1"]}], ("value", "payment", "pm_1")),
    ([{"customdata": ["something", "else"]}], None),
])
def test_picked_reads_the_clicked_node(points, node):
    assert network_panel.picked(SimpleNamespace(selection=SimpleNamespace(points=points))) == node
