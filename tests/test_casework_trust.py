"""Casework an analyst can trust, probed as an adversarial tester would, from the command line on a real store.

Bans follow decisions, ban lists hold what is left to ban, a mistyped store is refused,
the audit trail catches deletions, cuts and re-chaining, four-eyes holds for any spelling
of a name and for any environment, and a detection run killed between its results and its
lineage leaves one run or the other.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from ringwatch.graph.casework import audit, bans
from ringwatch.graph.casework.analysts import analyst_id
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.graph.reports.review import build_review
from ringwatch.scenarios.generate import generate
from scenario_store import private_copy

from ringwatch.cli import main


@pytest.fixture
def db(detected_store, tmp_path, monkeypatch):
    return str(private_copy(detected_store, tmp_path, monkeypatch))


def run(db, *args, env=None):
    result = CliRunner().invoke(main, [*args, "--db", db], env=env)
    assert "Traceback" not in result.output
    return result


def ok(db, *args, env=None) -> str:
    result = run(db, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _rings(db) -> pd.DataFrame:
    with open_engine("embedded", db) as engine:
        rings, accounts = engine.results("rings"), engine.results("accounts")
    rings = rings[rings["flagged"]].sort_values(["risk_score", "ring_id"], ascending=[False, True])
    rings["members"] = [sorted(accounts.loc[accounts["cluster_id"] == c, "account_id"]) for c in rings["cluster_id"]]
    return rings.reset_index(drop=True)


def _ban_everything(db) -> str:
    """ann proposes every flagged account, bob approves; returns the batch id."""
    out = ok(db, "batch", "propose", "--min-score", "0", "--analyst", "ann")
    batch_id = out.split()[1].rstrip(":")
    if "waiting for approval" in out:
        ok(db, "batch", "approve", batch_id, "--analyst", "bob")
    return batch_id


def _banned(db) -> set[str]:
    with open_engine("embedded", db) as engine:
        return set(bans.banned_now(engine).index)


def test_a_false_positive_tells_the_truth_about_bans_in_force_and_can_lift_them(db):
    batch_id = _ban_everything(db)
    first, second = _rings(db).iloc[0], _rings(db).iloc[1]
    out = ok(db, "decide", first["ring_id"], "--as", "false-positive", "--note", "x", "--analyst", "carol")
    n = len(first["members"])
    assert f"{n:,} accounts are no longer flagged" in out
    assert f"{n:,} of its accounts are still banned by approved batch {batch_id}" in out and "--lift-bans" in out
    assert set(first["members"]) <= _banned(db)  # the decision did not pretend otherwise
    out = ok(db, "decide", second["ring_id"], "--as", "false-positive", "--note", "staff", "--analyst", "carol",
             "--lift-bans")
    assert f"lifted the bans on {len(second['members']):,} accounts" in out and "still banned" not in out
    assert not set(second["members"]) & _banned(db)
    with open_engine("embedded", db) as engine:
        unbans = engine.records("unbans")
        assert set(unbans["account_id"]) == set(second["members"]) and set(unbans["analyst"]) == {"carol"}
        assert unbans["note"].str.startswith("false positive (decision, audit entry").all()
        assert audit.verify(engine).ok
    refused = run(db, "decide", first["ring_id"], "--as", "fraud", "--analyst", "carol", "--lift-bans")
    assert refused.exit_code == 1 and "only a false-positive decision lifts bans" in refused.output


def test_ban_lists_and_batches_hold_only_accounts_not_banned_yet(db, tmp_path):
    batch_id = _ban_everything(db)
    banned = _banned(db)
    refused = run(db, "batch", "propose", "--min-score", "0.95", "--analyst", "ann")
    assert refused.exit_code == 1 and "not banned already" in refused.output
    out = ok(db, "export", "bans", "--out", str(tmp_path / "b.csv"), "--analyst", "ann")
    assert out.startswith("wrote 0 rows")
    again = ok(db, "batch", "propose", "--min-score", "0.95", "--include-banned", "--analyst", "ann")
    again_id = again.split()[1].rstrip(":")
    if "waiting for approval" in again:
        ok(db, "batch", "approve", again_id, "--analyst", "bob")
    with open_engine("embedded", db) as engine:
        history = bans.history(engine)
        # the bans were recorded now, after the data: a window reaching to today counts them
        review = build_review(engine, since="2000-01-01", until=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d"))
    # the re-ban is in the history, but bans nobody new, and the review counts people, not events
    rebans = history[history["batch_id"] == again_id]
    assert len(rebans) and not rebans["changed"].any()
    assert review.counts["accounts newly banned"] == len(banned)
    assert set(history.loc[history["batch_id"] == batch_id, "account_id"]) == banned


def test_an_identical_pending_batch_is_refused_with_its_id(db):
    ok(db, "policy", "set", "approval-above", "0", "--note", "every batch needs two people", "--analyst", "lead")
    ring = _rings(db).iloc[0]["ring_id"]
    first = ok(db, "batch", "propose", "--ring", ring, "--analyst", "ann")
    first_id = first.split()[1].rstrip(":")
    assert "waiting for approval" in first
    second = run(db, "batch", "propose", "--ring", ring, "--analyst", "ann")
    assert second.exit_code == 1 and f"batch {first_id} with the same accounts is already waiting" in second.output
    with open_engine("embedded", db) as engine:
        assert len(engine.records("batches")) == 1


@pytest.mark.parametrize("command", [
    ["audit", "verify"], ["audit", "head"], ["review", "--out", "{tmp}/r.html"],
    ["export", "bans", "--out", "{tmp}/b.csv", "--analyst", "ann"], ["export", "accounts", "--out", "{tmp}/a.csv"],
    ["decide", "R-x", "--as", "review", "--analyst", "ann"], ["detect"], ["policy", "show"],
])
def test_a_mistyped_store_is_refused_not_created(tmp_path, command):
    typo = tmp_path / "typo.duckdb"
    result = run(str(typo), *[c.format(tmp=tmp_path) for c in command])
    assert result.exit_code == 1 and f"store {typo} does not exist" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _sql(db, statement):
    with duckdb.connect(db) as con:
        con.execute(statement)


def test_verify_catches_a_deleted_batch_and_a_deleted_last_entry(db):
    batch_id = _ban_everything(db)
    assert "audit log intact" in ok(db, "audit", "verify")
    other = db.replace("store", "other")
    shutil.copy(db, other)
    before = _banned(db)
    _sql(db, "DELETE FROM ledger WHERE ledger = 'batches'")  # would lift every ban silently
    assert not _banned(db) and before
    result = run(db, "audit", "verify")
    assert result.exit_code == 1 and "batches ledger row is missing (deleted)" in result.output
    _sql(other, "DELETE FROM ledger WHERE ledger = 'audit' AND seq = (SELECT max(seq) FROM ledger WHERE ledger = 'audit')")
    result = run(other, "audit", "verify")
    assert result.exit_code == 1 and "has no audit entry" in result.output, batch_id


def _rechain(db, key: bytes | None = None):
    """What someone with write access does: edit the first entry and recompute every hash after it."""
    with duckdb.connect(db) as con:
        rows = con.execute("SELECT seq, body FROM ledger WHERE ledger = 'audit' ORDER BY seq").fetchall()
        prev = audit.GENESIS
        for seq, body in rows:
            entry = json.loads(body)
            if seq == 0:
                entry["details"]["note"] = "rewritten"
            entry["prev_hash"] = prev
            entry.pop("keyed", None)  # without the key, the best an attacker can do is an unkeyed chain
            entry["hash"] = prev = audit.entry_hash(entry)
            con.execute("UPDATE ledger SET body = ? WHERE ledger = 'audit' AND seq = ?", [audit.canonical(entry), seq])
        first = json.loads(rows[0][1])["details"]
        first["note"] = "rewritten"
        con.execute("UPDATE ledger SET body = ? WHERE ledger = 'decisions' AND seq = 0",
                    [audit.canonical(first)])


def test_a_kept_head_catches_a_cut_tail_and_a_rechained_log(db):
    ring = _rings(db).iloc[0]["ring_id"]
    for analyst in ("ann", "bob", "carol"):
        ok(db, "decide", ring, "--as", "review", "--note", f"look {analyst}", "--analyst", analyst)
    head = ok(db, "audit", "head").split()
    assert head[:2] == ["entry", "2"] and len(head[2]) == 64
    assert "the given head is in the chain" in ok(db, "audit", "verify", "--head", head[2])
    cut = db.replace("store", "cut")
    shutil.copy(db, cut)
    _sql(cut, "DELETE FROM ledger WHERE (ledger = 'audit' AND seq = 2) OR (ledger = 'decisions' AND seq = 2)")
    assert "audit log intact" in ok(cut, "audit", "verify")  # a clean cut of the tail: only the head can tell
    result = run(cut, "audit", "verify", "--head", head[2])
    assert result.exit_code == 1 and "not in the chain" in result.output
    _rechain(db)
    assert "audit log intact" in ok(db, "audit", "verify")  # re-chained: the chain alone cannot tell
    result = run(db, "audit", "verify", "--head", head[2])
    assert result.exit_code == 1 and "re-chained" in result.output


def test_with_an_audit_key_rechaining_without_the_key_is_caught(db):
    ring = _rings(db).iloc[0]["ring_id"]
    env = {"RINGWATCH_AUDIT_KEY": "k" * 32}
    for analyst in ("ann", "bob"):
        ok(db, "decide", ring, "--as", "review", "--note", f"look {analyst}", "--analyst", analyst, env=env)
    assert "audit log intact" in ok(db, "audit", "verify", env=env)
    keyless = run(db, "audit", "verify")
    assert keyless.exit_code == 1 and "set RINGWATCH_AUDIT_KEY" in keyless.output
    wrong = run(db, "audit", "verify", env={"RINGWATCH_AUDIT_KEY": "x" * 32})
    assert wrong.exit_code == 1 and "under this audit key" in wrong.output
    _rechain(db)
    result = run(db, "audit", "verify", env=env)
    assert result.exit_code == 1 and "re-chained without the key" in result.output


@pytest.mark.parametrize("spelling", ["Ann", "ann ", " ann", "ann\u200b", "ANN", "ａｎｎ", "a\u00adnn"])
def test_four_eyes_holds_for_every_spelling_of_the_proposers_name(db, spelling):
    out = ok(db, "batch", "propose", "--min-score", "0", "--analyst", "ann")
    batch_id = out.split()[1].rstrip(":")
    assert "waiting for approval" in out
    result = run(db, "batch", "approve", batch_id, "--analyst", spelling)
    assert result.exit_code == 1 and "four-eyes" in result.output
    assert analyst_id(spelling) == "ann"
    assert "approved by bob" in ok(db, "batch", "approve", batch_id, "--analyst", "Bob")


def test_the_four_eyes_size_is_the_stores_not_the_proposers(db):
    env = {"RINGWATCH_APPROVAL_ABOVE": "100000"}
    out = ok(db, "batch", "propose", "--min-score", "0", "--analyst", "ann", env=env)
    assert "waiting for approval" in out  # the proposer's environment changes nothing
    assert run(db, "batch", "propose", "--approval-above", "100000", "--analyst", "ann").exit_code == 2
    assert run(db, "batch", "propose", "--no-four-eyes", "--analyst", "ann").exit_code == 2
    bad = run(db, "policy", "set", "approval-above", "abc", "--note", "x", "--analyst", "lead")
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "'abc'" in bad.output
    assert run(db, "policy", "set", "approval-above", "10", "--analyst", "lead").exit_code == 1  # no reason given
    changed = ok(db, "policy", "set", "approval-above", "off", "--note", "one-person team", "--analyst", "Lead ")
    assert "approval-above: 50 -> off by lead" in changed
    assert "approval-above: off" in ok(db, "policy", "show")
    with open_engine("embedded", db) as engine:
        entry = engine.records("audit").iloc[-1]
        assert entry["action"] == "set_policy" and entry["details"]["previous"] == 50
        assert audit.verify(engine).ok


def test_an_export_needs_a_named_analyst(db, tmp_path):
    result = run(db, "export", "bans", "--out", str(tmp_path / "b.csv"))
    assert result.exit_code == 1 and "pass --analyst NAME" in result.output
    assert not (tmp_path / "b.csv").exists()
    with open_engine("embedded", db) as engine:
        assert engine.records("audit").empty


# A detection run killed (SIGKILL, no clean-up) at a chosen point: after its results are written
# and before its lineage, or halfway through writing its result tables.
KILL_DETECT = textwrap.dedent("""
    import os, signal, sys
    from ringwatch.graph.detection import pipeline
    from ringwatch.graph.engines import open_engine
    from ringwatch.graph.engines.embedded.engine import EmbeddedEngine

    def kill(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if sys.argv[2] == "before lineage":
        pipeline.record_history = kill
    else:
        write = EmbeddedEngine._write_results
        def half(self, tables):
            write(self, {"accounts": tables["accounts"]})
            kill()
        EmbeddedEngine._write_results = half
    with open_engine("embedded", sys.argv[1]) as engine:
        pipeline.detect(engine)
""")


@pytest.mark.parametrize("point", ["before lineage", "halfway through the results"])
def test_detect_killed_midway_leaves_the_previous_run_whole(db, point):
    with open_engine("embedded", db) as engine:
        before = engine.results("runs")["finished_at"].iloc[0]
        accounts = engine.results("accounts")
        lineage_rows = len(engine.records("lineage"))
    killed = subprocess.run([sys.executable, "-c", KILL_DETECT, db, point], capture_output=True, check=False)
    assert killed.returncode == -9, killed.stderr
    with open_engine("embedded", db) as engine:
        assert engine.results("runs")["finished_at"].iloc[0] == before
        pd.testing.assert_frame_equal(engine.results("accounts"), accounts)
        assert len(engine.records("lineage")) == lineage_rows
        detect(engine)
        assert engine.results("runs")["finished_at"].iloc[0] > before
        assert len(engine.records("lineage")) > lineage_rows


KILL_INGEST = textwrap.dedent("""
    import os, signal, sys
    from ringwatch.graph import load
    from ringwatch.graph.engines import open_engine

    real = load._load
    def on_usage(engine, kind, rows, extra):  # the signups file is stored; the usage file is half read
        if kind == "usage":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(engine, kind, rows, extra)
    load._load = on_usage
    with open_engine("embedded", sys.argv[1]) as engine:
        load.ingest(engine, signups=sys.argv[2], usage=sys.argv[3])
""")


def test_ingest_killed_midway_keeps_whole_files_and_a_rerun_finishes_the_job(tmp_path):
    files = generate(tmp_path / "data", accounts=1000, seed=3)
    db = str(tmp_path / "killed.duckdb")
    killed = subprocess.run([sys.executable, "-c", KILL_INGEST, db, str(files.signups), str(files.usage)],
                            capture_output=True, check=False)
    assert killed.returncode == -9, killed.stderr
    with open_engine("embedded", db) as engine:
        counts = engine.counts()
        assert counts["accounts"] > 0 and counts["usage_rows"] == 0  # the first file whole, none of the second
        ingest(engine, signups=files.signups, usage=files.usage)
        after = engine.counts()
    with open_engine("embedded", tmp_path / "clean.duckdb") as engine:
        ingest(engine, signups=files.signups, usage=files.usage)
        assert engine.counts() == after


def test_the_audit_trail_of_a_batch_export_names_the_bytes_on_disk(db, tmp_path):
    batch_id = _ban_everything(db)
    ok(db, "batch", "export", batch_id, "--out", str(tmp_path / "b.csv"), "--analyst", "bob")
    with open_engine("embedded", db) as engine:
        last = engine.records("exports").iloc[-1]
    assert last["content_hash"] == hashlib.sha256((tmp_path / "b.csv").read_bytes()).hexdigest()


CLI = [sys.executable, "-c", "from ringwatch.cli import main; main()"]
HOLD_THE_STORE = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])  # what the dashboard does for the moment of one query, here for longer
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def _verify_while_held(db, wait: int) -> subprocess.CompletedProcess:
    """`ringwatch audit verify --wait WAIT` while another process holds the store for ten seconds."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_STORE, db, "10"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    try:
        return subprocess.run([*CLI, "audit", "verify", "--db", db, "--wait", str(wait)], capture_output=True,
                              text=True, timeout=60, check=False)
    finally:
        holder.wait()


def test_a_command_waits_for_a_store_another_process_holds_and_says_so(db):
    waited = _verify_while_held(db, 30)
    assert waited.returncode == 0, waited.stderr
    assert "audit log intact" in waited.stdout and "in use by another process; waiting up to 30 s" in waited.stderr
    refused = _verify_while_held(db, 0)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"Error: store {db} is in use by another process; try again, or wait longer")
