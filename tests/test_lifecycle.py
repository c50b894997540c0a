"""Weeks of detection on a mutated demo scenario: stable ids, lineage, decisions, feedback, review, audit."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from click.testing import CliRunner

from ringwatch.cli import main
from ringwatch.graph.casework import audit
from ringwatch.graph.casework import bans, batches
from ringwatch.graph.casework import decisions
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.detection.lineage import latest_events
from ringwatch.graph.engines import open_engine
from ringwatch.graph.casework.exports import bans_table
from ringwatch.graph.load import ingest
from ringwatch.graph.reports.review import build_review
from ringwatch.graph.reports.review_page import render_html
from ringwatch.scenarios.generate import generate

ACCOUNT_COPY = ("INSERT INTO accounts SELECT ? || account_id, created_at, email, email_domain, phone, ip, ip_net, "
                "device_id, user_agent, payment_id, country, org_id, attributes FROM accounts WHERE account_id IN ?")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("scenario"), accounts=1500, seed=5)


@pytest.fixture
def store(files, tmp_path):
    with open_engine("embedded", tmp_path / "weeks.duckdb") as engine:
        ingest(engine, signups=files.signups, usage=files.usage)
        detect(engine)
        yield engine


def _flagged(engine):
    rings = engine.results("rings")
    return rings[rings["flagged"].astype(bool)].reset_index(drop=True)


def _members(engine, rid):
    acc, rings = engine.results("accounts"), engine.results("rings")
    cluster = rings.loc[rings["ring_id"] == rid, "cluster_id"].iloc[0]
    return sorted(acc.loc[acc["cluster_id"] == cluster, "account_id"])


def _clone(engine, ids, prefix, suffix=""):
    """New accounts copying these accounts' identifiers and traffic (values suffixed to make a separate group)."""
    con = engine.con
    con.execute(ACCOUNT_COPY, [prefix, ids])
    con.execute("INSERT INTO identifiers SELECT ? || account_id, kind, value || ? FROM identifiers "
                "WHERE account_id IN ?", [prefix, suffix, ids])
    con.execute("INSERT INTO usage (account_id, ts, ip, model, prompt_fingerprint, input_tokens, output_tokens, requests, "
                "user_agent) SELECT ? || account_id, ts, ip || ?, model, prompt_fingerprint || ?, input_tokens, "
                "output_tokens, requests, user_agent FROM usage WHERE account_id IN ?", [prefix, suffix, suffix, ids])
    engine._links_ready = False  # written behind the engine's back: rebuild its link table


def _detach(engine, ids, suffix):
    """Give these accounts their own identifier values and templates: they leave their old group together."""
    con = engine.con
    con.execute("UPDATE identifiers SET value = value || ? WHERE account_id IN ?", [suffix, ids])
    con.execute("UPDATE usage SET ip = ip || ?, prompt_fingerprint = prompt_fingerprint || ? WHERE account_id IN ?",
                [suffix, suffix, ids])
    engine._links_ready = False


def _events(engine):
    lin = latest_events(engine)
    return {(e, r): row for e, r, row in zip(lin["event"], lin["ring_id"], lin.to_dict("records"))}


def test_rerun_on_unchanged_data_changes_nothing(store):
    before = store.results("accounts")
    detect(store)
    pd.testing.assert_frame_equal(store.results("accounts"), before)
    assert set(latest_events(store)["event"]) == {"unchanged"}


def test_three_weeks_keep_ids_and_record_growth_split_new_and_dissolved(store):
    rings = _flagged(store)
    # the largest ring splits; the most certain rings grow, are copied and go quiet
    split_id = rings.sort_values(["size", "ring_id"], ascending=[False, True])["ring_id"].iloc[0]
    by_risk = rings[rings["ring_id"] != split_id].sort_values(["risk_score", "ring_id"], ascending=[False, True])
    grow_id, copy_id, drop_id = by_risk["ring_id"].iloc[:3]
    grow = _members(store, grow_id)
    ids_week1 = set(rings["ring_id"])

    # week 2: one ring gains three accounts, a new ring appears, one ring goes quiet
    _clone(store, grow[:3], "w2_")
    _clone(store, _members(store, copy_id), "w2n_", "~new")
    _detach(store, _members(store, drop_id), "~quiet")
    store.con.execute("DELETE FROM identifiers WHERE value LIKE '%~quiet'")
    store.con.execute("DELETE FROM usage WHERE ip LIKE '%~quiet' OR prompt_fingerprint LIKE '%~quiet'")
    detect(store)
    events = _events(store)
    assert events[("grown", grow_id)]["joined"] == 3
    assert set(_members(store, grow_id)) == set(grow) | {f"w2_{a}" for a in grow[:3]}
    assert ("dissolved", drop_id) in events
    new = [r for e, r in events if e == "new" and r in set(_flagged(store)["ring_id"])]
    assert len(new) == 1 and set(_members(store, new[0])) == {f"w2n_{a}" for a in _members(store, copy_id)}
    assert ids_week1 - {drop_id} <= set(_flagged(store)["ring_id"])

    # week 3: the largest ring splits into two groups
    members = _members(store, split_id)
    part = members[len(members) // 2 + 1:]
    _detach(store, part, "~b")
    detect(store)
    events = _events(store)
    split = events[("split", split_id)]
    assert split_id in split["related_ids"].split(",") and len(split["related_ids"].split(",")) == 2
    other = [r for r in split["related_ids"].split(",") if r != split_id][0]
    assert set(_members(store, other)) == set(part)
    assert set(_members(store, split_id)) == set(members) - set(part)


def test_a_part_that_split_off_shows_the_decision_on_the_ring_it_came_from(store):
    from ringwatch.graph.reports.case_views import earlier_rings

    split_id = _flagged(store).sort_values(["size", "ring_id"], ascending=[False, True])["ring_id"].iloc[0]
    decisions.decide(store, split_id, "confirmed_fraud", "ann", "card testing")
    members = _members(store, split_id)
    _detach(store, members[len(members) // 2 + 1:], "~b")
    detect(store)
    split = _events(store)[("split", split_id)]
    other = [r for r in split["related_ids"].split(",") if r != split_id][0]
    earlier = earlier_rings(store, other)
    assert list(earlier["ring_id"]) == [split_id] and earlier["how"].iloc[0] == "split from it"
    assert earlier["decision"].iloc[0].startswith("confirmed fraud · ann · ")
    # the part that kept the id carries the decision itself and came from nothing else
    assert earlier_rings(store, split_id).empty


def test_decisions_follow_the_ring_and_false_positive_feedback_holds_until_new_evidence(store):
    rid = _flagged(store)["ring_id"].iloc[0]
    members = _members(store, rid)
    decisions.decide(store, rid, "false_positive", "ann", "staff of one company", at="2026-11-20T10:00:00Z")
    detect(store)
    acc = store.results("accounts").set_index("account_id")
    assert not acc.loc[members, "flagged"].any()
    assert acc.loc[members, "reasons"].str.startswith("not flagged: marked false positive by ann on 2026-11-20").all()
    assert rid not in set(store.results("accounts").query("flagged")["ring_id"])
    assert rid not in set(decisions.pending_rings(store)["ring_id"])

    _clone(store, members[:2], "w2_")  # new members the decision did not cover: new evidence
    detect(store)
    acc = store.results("accounts").set_index("account_id")
    assert ("grown", rid) in _events(store)
    assert acc.loc[members, "flagged"].any()
    again = acc.loc[acc["flagged"] & (acc["ring_id"] == rid), "reasons"]
    assert again.str.contains("flagged again after being marked false positive by ann").all()
    assert again.str.contains("2 members the decision did not cover").all()


def test_a_false_positive_leaves_the_ban_list_at_once_and_other_verdicts_wait_for_detection(store):
    flagged = _flagged(store)
    rid, other = flagged["ring_id"].iloc[0], flagged["ring_id"].iloc[1]
    members = _members(store, rid)
    keeper = members[0]
    decisions.decide(store, keeper, "confirmed_fraud", "bob", "chargebacks")  # its own decision overrides the ring's
    before = bans_table(store)
    held = decisions.decide(store, rid, "false_positive", "ann", "staff of one company")["held_back"]
    after = bans_table(store)
    assert held == len(members) - 1
    assert set(before["account_id"]) - set(after["account_id"]) == set(members[1:])
    assert keeper in set(after["account_id"])
    acc = store.results("accounts").set_index("account_id")
    assert acc.loc[members[1:], "reasons"].str.startswith("not flagged: marked false positive by ann").all()
    assert not store.results("rings").set_index("ring_id").at[rid, "flagged"]
    # a confirmed or needs-review verdict changes no result until the next detection run
    decisions.decide(store, other, "needs_review", "ann")
    assert bans_table(store).equals(after)
    # the next run re-applies the ledger: the same accounts stay held back
    detect(store)
    assert set(bans_table(store)["account_id"]) == set(after["account_id"])


def test_an_accounts_own_decision_overrides_its_rings(store):
    rid = _flagged(store)["ring_id"].iloc[0]
    members = _members(store, rid)
    decisions.decide(store, rid, "false_positive", "ann")
    decisions.decide(store, members[0], "confirmed_fraud", "bob", "chargebacks")
    detect(store)
    acc = store.results("accounts").set_index("account_id")
    assert not acc.loc[members[1:], "flagged"].any()
    assert not acc.loc[members[0], "reasons"].startswith("not flagged")


def test_decisions_need_an_analyst_and_a_known_target(store):
    with pytest.raises(ValueError, match="analyst"):
        decisions.decide(store, _flagged(store)["ring_id"].iloc[0], "needs_review", "")
    with pytest.raises(ValueError, match="neither a ring id nor an account id"):
        decisions.decide(store, "R-nothing", "needs_review", "ann")


def test_four_eyes_and_byte_identical_exports(store, tmp_path):
    big = batches.propose(store, "ann")  # the store's four-eyes size: 50 by default
    assert big["size"] > 50 and big["needs_approval"]
    with pytest.raises(ValueError, match="waiting for approval"):
        batches.export_batch(store, big["batch_id"], tmp_path / "a.csv", "ann")
    with pytest.raises(ValueError, match="four-eyes: ann proposed"):
        batches.approve(store, big["batch_id"], "ann")
    batches.approve(store, big["batch_id"], "bob")
    with pytest.raises(ValueError, match="already approved by bob"):
        batches.approve(store, big["batch_id"], "carol")
    batches.export_batch(store, big["batch_id"], tmp_path / "a.csv", "ann")
    _clone(store, _members(store, _flagged(store)["ring_id"].iloc[0]), "w2n_", "~x")
    detect(store)  # the ban list has changed since; the batch has not
    batches.export_batch(store, big["batch_id"], tmp_path / "b.csv", "bob")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    import hashlib
    assert hashlib.sha256((tmp_path / "a.csv").read_bytes()).hexdigest() == big["content_hash"]
    last_ring = _flagged(store)["ring_id"].iloc[-1]
    with pytest.raises(ValueError, match=r"no flagged accounts that are not banned already \(\d+ are\)"):
        batches.propose(store, "ann", rings=[last_ring])  # the big batch banned them
    small = batches.propose(store, "ann", rings=[last_ring], include_banned=True)
    assert small["size"] <= 50 and not small["needs_approval"] and small["already_banned"] == 0
    assert bans.batch(store, small["batch_id"])["status"] == "approved"
    assert audit.verify(store).ok


def test_editing_any_entry_is_detected_and_named(store):
    rid = _flagged(store)["ring_id"].iloc[0]
    for analyst in ("ann", "bob", "carol"):
        decisions.decide(store, rid, "needs_review", analyst, f"look {analyst}")
    assert audit.verify(store).ok and audit.verify(store).entries == 3
    store.con.execute("UPDATE ledger SET body = replace(body, 'look bob', 'look eve') WHERE ledger = 'audit'")
    bad = audit.verify(store)
    assert bad.first_bad == 1 and "does not match its hash" in bad.reason
    store.con.execute("UPDATE ledger SET body = replace(body, 'look eve', 'look bob') WHERE ledger = 'audit'")
    assert audit.verify(store).ok
    store.con.execute("UPDATE ledger SET body = replace(body, 'look carol', 'ok') WHERE ledger = 'decisions'")
    bad = audit.verify(store)
    assert bad.first_bad == 2 and "decisions ledger row differs" in bad.reason
    store.con.execute("DELETE FROM ledger WHERE ledger = 'audit' AND seq = 0")
    assert audit.verify(store).first_bad == 0


def test_review_report_matches_the_data(store, tmp_path):
    rings = _flagged(store)
    rid = rings["ring_id"].iloc[0]
    decisions.decide(store, rid, "confirmed_fraud", "ann", "<script>alert(1)</script>")
    b = batches.propose(store, "ann", rings=[rid])
    batches.unban(store, [b["accounts"][0]], "bob", "appeal upheld")
    # the actions are recorded now, after the data: a window reaching to today counts them
    review = build_review(store, since="2000-01-01", until=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d"))
    assert review.counts["new or grown rings"] == len(rings)  # the first run: every flagged ring is new
    assert review.counts["accounts newly banned"] == b["size"] and review.counts["bans reversed"] == 1
    assert review.counts["decisions made"] == 1
    top = review.tables["top rings by requests"]
    acc = store.results("accounts")
    usage = store.usage_summary().merge(acc[acc["ring_id"] == top["ring_id"].iloc[0]], on="account_id")
    assert top["requests"].iloc[0] == usage["requests"].sum() == top["requests"].max()
    page = render_html(review)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "Window: Sat 1 Jan 2000 to" in page and f"Ring changes<span class='rows'>{len(rings)} rows" in page
    assert set(rings["ring_id"].head(3)) <= {r for r in rings["ring_id"] if r in page}


def test_a_quiet_week_gives_a_short_no_activity_report(store):
    review = build_review(store, since="2100-01-01")
    assert not review.activity
    page = render_html(review)
    assert "No activity in this window" in page and "<table>" not in page


def test_command_line_cycle(store, tmp_path, monkeypatch):
    db = str(store.path)
    store.close()
    run = lambda *args, **kw: CliRunner().invoke(main, list(args) + ["--db", db], **kw)
    monkeypatch.delenv("RINGWATCH_ANALYST", raising=False)
    with open_engine("embedded", db) as engine:
        rid = _flagged(engine)["ring_id"].iloc[0]
    refused = run("decide", rid, "--as", "fraud")
    assert refused.exit_code == 1 and "pass --analyst NAME" in refused.output and "Traceback" not in refused.output
    assert run("decide", rid, "--as", "fraud", "--note", "x", "--analyst", "ann").exit_code == 0
    assert run("policy", "set", "approval-above", "5", "--note", "small team", "--analyst", "lead").exit_code == 0
    proposed = run("batch", "propose", "--min-score", "0.0", env={"RINGWATCH_ANALYST": "ann"})
    batch_id = proposed.output.split()[1].rstrip(":")
    assert "waiting for approval" in proposed.output
    assert "cannot approve" in run("batch", "approve", batch_id, "--analyst", "ann").output
    assert run("batch", "approve", batch_id, "--analyst", "bob").exit_code == 0
    assert run("batch", "export", batch_id, "--out", str(tmp_path / "b.csv"), "--analyst", "bob").exit_code == 0
    with open_engine("embedded", db) as engine:
        victim = bans.batch(engine, batch_id)["accounts"][0]
    assert run("unban", victim, "--note", "appeal", "--analyst", "bob").exit_code == 0
    assert "not banned now" in run("unban", victim, "--note", "again", "--analyst", "bob").output
    # an ad-hoc ban list is an export too: recorded with its hash, and like every action it needs an analyst
    refused = run("export", "bans", "--out", str(tmp_path / "adhoc.csv"), "--min-score", "0.9")
    assert refused.exit_code == 1 and "pass --analyst NAME" in refused.output and not (tmp_path / "adhoc.csv").exists()
    exported = run("export", "bans", "--out", str(tmp_path / "adhoc.csv"), "--min-score", "0.9", "--analyst", " Carol")
    assert exported.exit_code == 0, exported.output
    with open_engine("embedded", db) as engine:
        last = engine.records("exports").iloc[-1]
    assert last["what"] == "bans" and last["analyst"] == "carol"
    assert last["selection"] == {"rings": [], "min_score": 0.9, "max_score": None, "include_banned": False}
    assert last["content_hash"] == hashlib.sha256((tmp_path / "adhoc.csv").read_bytes()).hexdigest()
    assert "audit log intact: 7 entries" in run("audit", "verify").output
    out = run("review", "--since", "2000-01-01", "--out", str(tmp_path / "r.html"))
    assert out.exit_code == 0 and (tmp_path / "r.html").read_text().startswith("<!doctype html>")
