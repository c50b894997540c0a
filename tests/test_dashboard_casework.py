"""Casework in the dashboard (AppTest): who may act, decisions, ban batches under four-eyes, unbans, sign-in modes,
and what a write renews in the caches.

The caches are keyed on the store's results version and casework version
(``dashboard.data.StoreKey``): the cache tests count the read-model calls behind the pages, so
a write that emptied every cache would show up as the results views being computed again.
"""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_store import button, make_demo_store, open_app
from ringwatch.dashboard import data
from ringwatch.graph.casework import bans
from ringwatch.graph.casework.decisions import decide
from ringwatch.graph.detection.lineage import latest_events
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import overview_tables, views
from scenario_store import private_copy

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "ringwatch",
        "client_secret": "s", "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("casework"))


@pytest.fixture
def db(demo, tmp_path, monkeypatch):
    """A private copy of the demo store: these tests write to it."""
    copy = private_copy(demo, tmp_path, monkeypatch)
    monkeypatch.setenv("RINGWATCH_DB", str(copy))
    return copy


def _top_ring(db) -> str:
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    return rings[rings["flagged"]].sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]["ring_id"]


def _decision_tab(at):
    at.session_state["ring_view"] = "Decision"
    return at.run()


def test_without_a_name_nothing_can_be_done(db):
    at = _decision_tab(open_app("app_pages/rings.py"))
    assert button(at, "Record decision on this ring").disabled
    assert any("Enter your name in the sidebar" in c.value for c in at.caption)
    at.switch_page("app_pages/bans.py").run()
    assert button(at, "Propose as a ban batch").disabled
    with open_engine("embedded", db) as engine:
        assert engine.records("audit").empty


def test_a_decision_from_the_rings_page_is_recorded_and_holds_the_ring_back(db):
    top = _top_ring(db)
    at = _decision_tab(open_app("app_pages/rings.py", analyst_name="ann"))
    assert at.selectbox(key="ring").value == top
    at.radio(key="verdict_ring").set_value("false_positive")
    at.text_area(key="note_ring").input("one company's staff")
    button(at, "Record decision on this ring").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(f"Recorded: {top} false positive by ann" in s.value and "accounts are no longer flagged" in s.value
               for s in at.success)
    with open_engine("embedded", db) as engine:
        row = engine.records("decisions").iloc[-1]
        audit_log = engine.records("audit")
    assert (row["target"], row["verdict"], row["analyst"], row["note"]) == (top, "false_positive", "ann",
                                                                            "one company's staff")
    assert list(audit_log["action"]) == ["decision"]
    # the page shows the ring held back, with who decided
    assert {m.label: m.value for m in at.metric}["Status"] == "held back"
    table = at.dataframe[0].value.set_index("ring_id")
    assert table.at[top, "status"] == "held back (false positive)"
    assert table.at[top, "decision"].startswith("false positive · ann · ")
    assert any("Held back by a false-positive decision" in i.value for i in at.info)


def test_batches_four_eyes_approval_and_unban_in_the_dashboard(db):
    at = open_app("app_pages/bans.py", analyst_name="ann")
    button(at, "Propose as a ban batch").click()
    at.run()
    assert any("waiting for approval by an analyst other than ann" in s.value for s in at.success)
    at.switch_page("app_pages/batches.py").run()
    assert button(at, "Approve batch").disabled
    assert any("Four-eyes: ann proposed this batch" in c.value for c in at.caption)

    at.session_state["analyst_name"] = "bob"
    at.run()
    button(at, "Approve batch").click()
    at.run()
    assert any("approved by bob" in s.value for s in at.success)
    with open_engine("embedded", db) as engine:
        state = bans.ban_state(engine)
    banned = state[state["banned"]]["account_id"].tolist()
    assert len(banned) > 50

    at.tabs[2].multiselect(key="unban_accounts").set_value(banned[:2])
    at.text_input(key="unban_note").input("verified customers")
    button(at, "Unban").click()
    at.run()
    assert any("Unbanned 2 account(s) by bob" in s.value for s in at.success)
    with open_engine("embedded", db) as engine:
        state = bans.ban_state(engine).set_index("account_id")
        actions = engine.records("audit")["action"].tolist()
    assert not state.loc[banned[:2], "banned"].any() and state.loc[banned[2:], "banned"].all()
    assert actions == ["propose_batch", "approve_batch", "unban", "unban"]
    at.switch_page("app_pages/overview.py").run()
    work = {m.label: m.value for m in at.metric}
    assert work["Accounts banned now"] == f"{len(banned) - 2:,}" and work["Batches awaiting approval"] == "0"
    at.switch_page("app_pages/audit.py").run()
    assert any("Audit log intact: 4 entries" in s.value for s in at.success)
    log = at.dataframe[0].value
    assert list(log["action"]) == ["unban", "unban", "approve_batch", "propose_batch"]
    assert list(log["analyst"]) == ["bob", "bob", "bob", "ann"]
    assert log["what"].iloc[-1].startswith("proposed B-") and "accounts, sha256" in log["what"].iloc[-1]


def test_the_audit_log_page_names_the_first_edited_entry(db):
    from ringwatch.graph.casework import decisions

    with open_engine("embedded", db) as engine:
        rid = engine.results("rings").query("flagged")["ring_id"].iloc[0]
        for analyst in ("ann", "bob"):
            decisions.decide(engine, rid, "needs_review", analyst, f"look {analyst}")
        engine.con.execute("UPDATE ledger SET body = replace(body, 'look bob', 'look eve') WHERE ledger = 'audit'")
    at = open_app("app_pages/audit.py")
    assert any("Audit log entry 1 is not what was recorded" in e.value for e in at.error)
    at.multiselect(key="audit_analysts").set_value(["ann"]).run()
    assert list(at.dataframe[0].value["analyst"]) == ["ann"]


def test_with_login_configured_anonymous_visitors_only_read(db):
    at = _decision_tab(open_app("app_pages/rings.py", secrets={"auth": AUTH}, analyst_name="mallory"))
    # a typed name counts for nothing once login is configured
    assert not at.text_input  # no name box
    assert button(at, "Sign in")
    assert button(at, "Record decision on this ring").disabled
    assert any("Sign in to take a decision" in c.value for c in at.caption)
    assert at.dataframe  # the ring table is still there to read


def test_require_login_shows_only_the_sign_in_page(db):
    at = open_app(secrets={"auth": AUTH, "ringwatch": {"require_login": True}})
    assert any("requires sign-in" in i.value for i in at.info)
    assert button(at, "Sign in")
    assert not at.metric and not at.dataframe


def test_a_decision_on_an_account_from_the_lookup_page(db):
    with open_engine("embedded", db) as engine:
        account = engine.results("accounts").query("flagged").sort_values("account_id").iloc[0]["account_id"]
    at = open_app("app_pages/lookup.py", analyst_name="carol", query=account, field="account_id")
    at.radio(key="verdict_account").set_value("needs_review")
    button(at, "Record decision on this account").click()
    at.run()
    assert any(f"Recorded: {account} needs review by carol" in s.value for s in at.success)
    with open_engine("embedded", db) as engine:
        row = engine.records("decisions").iloc[-1]
    assert (row["target"], row["target_kind"], row["verdict"], row["analyst"]) == (account, "account", "needs_review",
                                                                                  "carol")
    assert {m.label: m.value for m in at.metric}["Banned"] == "no"


@pytest.mark.parametrize("auth,message", [
    ({k: v for k, v in AUTH.items() if k != "client_secret"}, "[auth] needs client_secret"),
    ({**AUTH, "redirect_uri": "http://localhost:9999/oauth2callback"}, "use the dashboard's port"),
    (None, "has no [auth] section"),
])
def test_the_dashboard_command_refuses_a_login_setup_that_cannot_work(db, tmp_path, auth, message):
    from click.testing import CliRunner

    from ringwatch.cli import main

    secrets = tmp_path / "secrets.toml"
    secrets.write_text("" if auth is None else "[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in auth.items()))
    result = CliRunner().invoke(main, ["dashboard", "--db", str(db), "--port", "8501", "--secrets", str(secrets)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_ring_that_split_off_a_decided_ring_shows_that_decision(db):
    from ringwatch.graph.casework import decisions
    from ringwatch.graph.detection.pipeline import detect

    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
        big = rings[rings["flagged"]].sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
        decisions.decide(engine, big["ring_id"], "confirmed_fraud", "ann", "card testing")
        acc = engine.results("accounts")
        part = sorted(acc.loc[acc["cluster_id"] == big["cluster_id"], "account_id"])[big["size"] // 2 + 1:]
        # half the ring moves to its own cards, devices, IPs and templates: the ring splits
        engine.con.execute("UPDATE identifiers SET value = value || '~b' WHERE account_id IN ?", [part])
        engine.con.execute("UPDATE usage SET ip = ip || '~b', prompt_fingerprint = prompt_fingerprint || '~b' "
                           "WHERE account_id IN ?", [part])
        detect(engine)
        lineage = latest_events(engine)
    split = lineage[(lineage["event"] == "split") & (lineage["ring_id"] == big["ring_id"])]
    assert len(split) == 1
    other = [r for r in split["related_ids"].iloc[0].split(",") if r != big["ring_id"]][0]
    at = _decision_tab(open_app("app_pages/rings.py", ring=other, analyst_name="bob"))
    assert at.selectbox(key="ring").value == other
    assert any("came from 1 earlier ring(s)" in i.value and "1 of them carry a decision" in i.value for i in at.info)
    shown = next(d.value for d in at.dataframe if "how" in d.value.columns)
    assert list(shown["ring_id"]) == [big["ring_id"]] and shown["how"].iloc[0] == "split from it"
    assert shown["decision"].iloc[0].startswith("confirmed fraud · ann")


def test_a_false_positive_on_a_banned_ring_says_so_and_lifts_the_bans_on_request(db):
    at = open_app("app_pages/bans.py", analyst_name="ann")
    button(at, "Propose as a ban batch").click()
    at.run()
    at.switch_page("app_pages/batches.py").run()
    at.session_state["analyst_name"] = "bob"
    at.run()
    button(at, "Approve batch").click()
    at.run()
    top = _top_ring(db)
    at = _decision_tab(open_app("app_pages/rings.py", analyst_name="carol"))
    assert any("banned now by approved batch" in w.value for w in at.warning)
    at.radio(key="verdict_ring").set_value("false_positive")
    at.text_area(key="note_ring").input("a customer's staff")
    button(at, "Record decision on this ring").click()
    at.run()
    assert any("still banned by B" in s.value for s in at.success), [s.value for s in at.success]
    assert any("cleared their flags, not their bans" in w.value for w in at.warning)
    with open_engine("embedded", db) as engine:
        members = engine.records("decisions").iloc[-1]["members"]
        state = bans.ban_state(engine).set_index("account_id")
    assert state.loc[members, "banned"].all()
    button(at, f"Lift these {len(members):,} bans").click()
    at.run()
    assert any(f"Lifted the bans on {len(members):,} accounts of {top}" in s.value for s in at.success)
    with open_engine("embedded", db) as engine:
        state = bans.ban_state(engine).set_index("account_id")
        unbans = engine.records("unbans")
    assert not state.loc[members, "banned"].any() and set(unbans["analyst"]) == {"carol"}


def test_markdown_in_a_name_is_shown_as_text(db):
    top = _top_ring(db)
    name = "![t](http://127.0.0.1:9/a.png) **bold** :red[x]"
    from ringwatch.graph.casework import decisions

    with open_engine("embedded", db) as engine:
        decisions.decide(engine, top, "needs_review", name, "[link](http://127.0.0.1:9/)")
    at = _decision_tab(open_app("app_pages/rings.py", analyst_name=name))
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    shown = [t for t in texts if "127.0.0.1" in t]
    assert shown, texts
    for text in shown:  # every Markdown construct escaped: the browser is not asked to fetch anything
        assert "![" not in text and "**bold**" not in text and " :red[" not in text
        assert "\\!\\[t\\]" in text and "\\*\\*bold\\*\\*" in text


def test_the_review_report_download_needs_a_name_and_is_audited(db):
    from ringwatch.dashboard import actions
    from ringwatch.dashboard.identity import Identity

    at = open_app("app_pages/review.py")
    button = at.get("download_button")[0]
    assert button.proto.disabled
    assert any("Enter your name in the sidebar" in c.value for c in at.caption)
    with pytest.raises(PermissionError):
        actions.review_download(("embedded", str(db), 0.0), Identity("", "anonymous", False), None)
    produce = actions.review_download(("embedded", str(db), 0.0), Identity("ann", "declared", False), None)
    page = produce()
    with open_engine("embedded", db) as engine:
        recorded = engine.records("exports").iloc[-1]
    assert page.startswith(b"<!doctype html>") and recorded["what"] == "review" and recorded["analyst"] == "ann"
    import hashlib
    assert recorded["content_hash"] == hashlib.sha256(page).hexdigest()


@pytest.fixture
def calls(monkeypatch):
    """How often the pages' read models ran (a cached answer does not count)."""
    counted = {}
    for name in ("ring_detail", "ring_members", "risk_distribution", "signups_over_time", "ring_list", "headline"):
        real = getattr(views, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            counted[_name] = counted.get(_name, 0) + 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(views, name, counting)
    return counted


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_a_decision_renews_casework_only_and_every_analyst_sees_it(db, calls):
    top = _top_ring(db)
    ann = open_app(analyst_name="ann")
    waiting = int(_metrics(ann)["Rings awaiting a decision"].replace(",", ""))
    bob = open_app("app_pages/rings.py", analyst_name="bob")
    ann.switch_page("app_pages/rings.py").run()
    ann.session_state["ring_view"] = "Decision"
    ann.run()
    before = data.store_key()
    calls.clear()

    ann.radio(key="verdict_ring").set_value("confirmed_fraud")
    ann.text_area(key="note_ring").input("same card on every account")
    button(ann, "Record decision on this ring").click()
    ann.run()
    assert not ann.exception, [e.message for e in ann.exception]
    after = data.store_key()
    assert after.results == before.results and after.casework != before.casework
    # the writer's page shows the decision at once; the ring's own views came from the cache
    assert ann.dataframe[0].value.set_index("ring_id").at[top, "decision"].startswith("confirmed fraud · ann · ")
    assert calls.get("ring_list", 0) >= 1
    assert "ring_detail" not in calls and "ring_members" not in calls

    # another analyst's next load shows it too, and the Overview counts it, its charts still cached
    bob.run()
    assert bob.dataframe[0].value.set_index("ring_id").at[top, "decision"].startswith("confirmed fraud · ann · ")
    bob.switch_page("app_pages/overview.py").run()
    assert int(_metrics(bob)["Rings awaiting a decision"].replace(",", "")) == waiting - 1
    assert "risk_distribution" not in calls and "signups_over_time" not in calls


def test_a_false_positive_renews_the_results_and_moves_its_accounts_in_the_overview_counts(db):
    with open_engine("embedded", db) as engine:
        ring = engine.results("rings").set_index("ring_id").loc[_top_ring(db)]
    at = open_app(analyst_name="ann")
    flagged_before = int(_metrics(at)["Flagged accounts"].replace(",", ""))
    before = data.store_key()
    with open_engine("embedded", db) as engine:
        held = decide(engine, ring.name, "false_positive", "ann", "staff accounts")["held_back"]
        stored = overview_tables.stored(engine)
        counted = overview_tables.overview_tables(
            overview_tables.account_fields(engine, engine.results("accounts")))
        flagged_now = int(engine.results("accounts")["flagged"].sum())
    assert held == ring["size"]
    for name in overview_tables.KEYS:
        pd.testing.assert_frame_equal(stored[name], counted[name], check_dtype=False)
    after = data.store_key()
    assert after.results != before.results and after.casework != before.casework
    at.run()
    metrics = _metrics(at)
    assert int(metrics["Flagged accounts"].replace(",", "")) == flagged_now == flagged_before - held
    assert metrics["Rings held back as false positives"] == "1"
