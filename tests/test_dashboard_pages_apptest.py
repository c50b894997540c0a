"""Links, account-first tables and the per-account timeline, run headless with AppTest on a demo store."""

from __future__ import annotations

import pytest
from dashboard_store import (
    APP,
    APP_TIMEOUT,
    IMG,
    PAYLOAD_ACCOUNT,
    SCRIPT,
    add_synthetic_ring,
    make_demo_store,
)
from ringwatch.graph.engines import open_engine
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = make_demo_store(tmp_path_factory.mktemp("pages"))
    big = add_synthetic_ring(db, size=300)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    flagged = rings[rings["flagged"] & (rings["ring_id"] != big)].sort_values(["risk_score", "ring_id"],
                                                                             ascending=[False, True])
    benign = rings[~rings["flagged"]].sort_values("ring_id")
    largest = flagged.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    return {"db": db, "big": big, "top": flagged.iloc[0]["ring_id"], "benign": benign.iloc[0]["ring_id"],
            "largest": largest["ring_id"], "member": largest["cluster_id"]}


@pytest.fixture
def app(store, monkeypatch):
    monkeypatch.setenv("RINGWATCH_DB", str(store["db"]))
    monkeypatch.setenv("RINGWATCH_ANALYST", "pat")

    def run(page: str, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
        at.run()
        for name, value in params.items():
            at.query_params[name] = value
        at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _link(at) -> str:
    return next(c.value for c in at.code)


def test_a_ring_link_opens_that_ring_and_the_url_follows_the_choice(app, store):
    at = app("app_pages/rings.py", ring=store["largest"])
    assert store["largest"] != store["top"]
    assert at.selectbox(key="ring").value == store["largest"]
    assert at.query_params["ring"] == store["largest"]
    assert _link(at).endswith(f"rings?ring={store['largest']}")
    at.selectbox(key="ring").set_value(store["top"]).run()
    assert at.query_params["ring"] == store["top"] and _link(at).endswith(f"rings?ring={store['top']}")


def test_a_link_to_a_ring_the_filters_hide_pins_it(app, store):
    at = app("app_pages/rings.py", ring=store["benign"])
    assert at.selectbox(key="ring").value == store["benign"]
    assert any("opened by a link" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["Status"] == "benign"


def test_a_link_to_an_unknown_ring_says_so(app, store):
    at = app("app_pages/rings.py", ring="R-0000000000")
    assert any("does not hold" in w.value for w in at.warning)
    assert at.selectbox(key="ring").value == store["top"]
    assert at.query_params["ring"] == store["top"]


def test_members_lead_with_the_account_and_filter_on_any_column(app, store):
    at = app("app_pages/rings.py", ring=store["largest"])
    at.session_state["ring_view"] = "Members"
    at.run()
    table = at.dataframe[-1].value
    assert list(table.columns[:4]) == ["account_id", "open", "own_score", "own_evidence"]
    assert table["open"].str.startswith("lookup?account=").all()
    assert table["own_score"].nunique() > 1
    at.multiselect(key="members_cols").set_value(["account_id", "own_score"]).run()
    at.text_input(key="members_f_account_id").set_value(store["member"]).run()
    assert at.dataframe[-1].value["account_id"].tolist() == [store["member"]]
    assert any("1 of" in c.value for c in at.caption)


def test_the_decision_form_starts_with_no_verdict_chosen(app, store):
    at = app("app_pages/rings.py", ring=store["top"])
    at.session_state["ring_view"] = "Decision"
    at.run()
    assert at.radio(key="verdict_ring").value is None
    next(b for b in at.button if b.label.startswith("Record decision")).click().run()
    assert any("Choose a decision first" in e.value for e in at.error)


def test_an_account_link_opens_lookup_with_its_timeline(app, store):
    at = app("app_pages/lookup.py", account=store["member"])
    assert at.text_input(key="query").value == store["member"] and at.selectbox(key="field").value == "account_id"
    assert at.selectbox(key="account").value == store["member"]
    assert _link(at).endswith(f"lookup?account={store['member']}")
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("usage over time" in t for t in titles) and any("against its ring" in t for t in titles)
    assert any(p.proto.label == f"Open ring {store['largest']}" for p in at.get("page_link"))
    # comparing with chosen members draws them beside the account
    others = at.multiselect(key="compare_members").options
    at.multiselect(key="compare_members").set_value(others[:2]).run()
    assert sum(t.count('"name":"acct_') for t in (c.proto.spec for c in at.get("plotly_chart"))) >= 3
    # a new search moves the URL on; an empty one clears it
    at.text_input(key="query").set_value("synth_img").run()
    assert at.query_params["account"] == "synth_img"
    at.text_input(key="query").set_value("").run()
    assert "account" not in at.query_params


def test_an_account_link_with_a_payload_shows_it_as_text(app):
    at = app("app_pages/lookup.py", account=PAYLOAD_ACCOUNT)
    assert at.selectbox(key="account").value == PAYLOAD_ACCOUNT
    assert not any(p in m.value for m in at.markdown for p in (SCRIPT, IMG))
    spec = "".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "<script>" not in spec and "<img" not in spec
    assert "%3DHYPERLINK" in _link(at)  # the id is URL-quoted in the link


def test_the_ban_list_leads_with_each_accounts_own_evidence(app):
    at = app("app_pages/bans.py")
    banned = int({m.label: m.value for m in at.metric}["Accounts banned"].replace(",", ""))
    table = at.dataframe[-1].value
    assert len(table) == banned
    assert list(table.columns[:5]) == ["account_id", "open", "own_score", "own_evidence", "shared_values"]
    weak = int({m.label: m.value for m in at.metric}["Weak evidence"].replace(",", ""))
    assert (table["shared_values"] < 2).sum() == weak
