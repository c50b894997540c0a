"""The review queue: who holds a ring, its status and age, overdue by store policy, queue health, the audit trail."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from engine_params import NEO4J, engine_name
from ringwatch.graph.casework import audit, decisions, policy, queue
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import case_views, queue_views
from ringwatch.graph.reports.review import build_review
from ringwatch.graph.reports.review_page import render_html
from scenario_store import private_copy

from ringwatch.cli import main


@pytest.fixture
def db(detected_store, tmp_path, monkeypatch):
    return str(private_copy(detected_store, tmp_path, monkeypatch))


def _rings(db) -> list[str]:
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    flagged = rings[rings["flagged"]].sort_values(["risk_score", "ring_id"], ascending=[False, True])
    assert len(flagged) >= 4
    return flagged["ring_id"].tolist()


def _row(engine, ring_id, now=None) -> dict:
    table = queue_views.queue(engine, now)
    return table.set_index("ring_id").loc[ring_id].to_dict()


def _refused(func, *args, match: str, **kwargs) -> None:
    with pytest.raises(ValueError, match=match):
        func(*args, **kwargs)


def test_take_release_reassign_and_comment_follow_the_rules(db):
    first, second, *_ = _rings(db)
    with open_engine("embedded", db) as engine:
        assert _row(engine, first)["status"] == "new" and _row(engine, first)["owner"] == ""
        queue.take(engine, first, " Ann ")
        assert (_row(engine, first)["status"], _row(engine, first)["owner"]) == ("in_review", "ann")
        _refused(queue.take, engine, first, "ANN", match="you hold ring .* already")
        _refused(queue.take, engine, first, "bob", match=f"ring {first} is held by ann")
        _refused(queue.release, engine, first, "bob", match="held by ann, not you")
        _refused(queue.assign, engine, first, "bob", "lead", match="held by ann: say why it moves to bob")
        _refused(queue.assign, engine, first, "ann", "lead", "x", match="held by ann already")
        moved = queue.assign(engine, first, "Bob", "lead", "ann is away")
        assert (moved["owner"], moved["previous"], moved["analyst"]) == ("bob", "ann", "lead")
        queue.comment(engine, first, "bob", "  cards all\nfrom one issuer ")
        _refused(queue.comment, engine, first, "bob", "   ", match="a comment needs text")
        row = _row(engine, first)
        assert (row["owner"], row["comments"], row["last_comment"]) == ("bob", 1, "cards all from one issuer")
        queue.release(engine, first, "bob", "done for today")
        assert (_row(engine, first)["status"], _row(engine, first)["owner"]) == ("new", "")
        _refused(queue.release, engine, first, "bob", match="nobody holds ring")
        # an unheld ring may be handed out without a note; the giver's own ring too
        queue.assign(engine, second, "carol", "lead")
        queue.assign(engine, second, "dave", "carol")
        assert _row(engine, second)["owner"] == "dave"
        for func, args in ((queue.take, ("ann",)), (queue.release, ("ann",)), (queue.comment, ("ann", "x")),
                           (queue.assign, ("bob", "ann", "x"))):
            _refused(func, engine, "R-0000000000", *args, match="R-0000000000 is not a ring id of the last detection run")
        _refused(queue.take, engine, first, "", match="needs an analyst")
        history = queue.events(engine, first)
    assert history["action"].tolist() == ["take", "assign", "comment", "release"]
    assert history["analyst"].tolist() == ["ann", "lead", "bob", "bob"]


def test_status_follows_the_decision_in_force_whoever_holds_the_ring(db):
    first, second, third, *_ = _rings(db)
    with open_engine("embedded", db) as engine:
        queue.take(engine, first, "ann")
        decisions.decide(engine, first, "confirmed_fraud", "bob", "cards")  # not the holder
        row = _row(engine, first)
        assert (row["status"], row["owner"], row["verdict"]) == ("decided", "ann", "confirmed_fraud")
        _refused(queue.take, engine, first, "carol", match="is decided \\(confirmed fraud by bob on ")
        _refused(queue.assign, engine, first, "carol", "lead", "x", match="is decided")
        queue.comment(engine, first, "carol", "batch next week")  # comments stay possible
        queue.release(engine, first, "ann")
        assert _row(engine, first)["status"] == "decided"
        # needs review leaves a ring open; a false positive holds it back (unflagged) and it stays listed, decided
        queue.take(engine, second, "ann")
        decisions.decide(engine, second, "needs_review", "ann")
        assert _row(engine, second)["status"] == "in_review"
        decisions.decide(engine, third, "false_positive", "ann", "a lab")
        table = queue_views.queue(engine)
    assert table.set_index("ring_id").at[third, "status"] == "decided"
    open_first = table["status"].ne("decided").tolist()
    assert open_first == sorted(open_first, reverse=True)  # open rings come before decided ones


def test_age_counts_from_first_flagged_and_overdue_follows_the_store_policy(db):
    first, second, *_ = _rings(db)
    with open_engine("embedded", db) as engine:
        flagged_at = queue_views.first_flagged(engine)[first]
        now = flagged_at + pd.Timedelta(days=10, hours=12)
        row = _row(engine, first, now)
        assert row["first_flagged"] == flagged_at and row["age_days"] == 10.5 and row["overdue"]
        assert not _row(engine, first, flagged_at + pd.Timedelta(days=6))["overdue"]  # policy default: 7 days
        policy.set_policy(engine, "overdue-days", "11", "lead", "a slower week")
        assert not _row(engine, first, now)["overdue"]
        decisions.decide(engine, second, "confirmed_fraud", "ann", at=(flagged_at + pd.Timedelta(days=2))
                         .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        decided = _row(engine, second, now)
        assert decided["age_days"] == 2.0 and not decided["overdue"]  # time to decision, never overdue
        policy.set_policy(engine, "overdue-days", "off", "lead", "no deadline")
        assert not queue_views.queue(engine, now + pd.Timedelta(days=365))["overdue"].any()
        _refused(policy.set_policy, engine, "overdue-days", "-1", "lead", "x", match="whole number")


def test_health_counts_the_queue_and_the_median_time_to_decision_in_the_window(db):
    rings = _rings(db)
    with open_engine("embedded", db) as engine:
        flagged_at = queue_views.first_flagged(engine)
        stamp = {r: flagged_at[r] for r in rings[:4]}
        for ring, days in zip(rings[:3], (1, 3, 8)):
            decisions.decide(engine, ring, "confirmed_fraud", "ann",
                             at=(stamp[ring] + pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        queue.take(engine, rings[3], "bob")
        since = min(stamp.values())
        now = max(stamp.values()) + pd.Timedelta(days=30)
        everything = queue_views.health(engine, now=now)
        early = queue_views.health(engine, since=since, end=since + pd.Timedelta(days=5), now=now)
    open_rings = len(rings) - 3
    assert everything == {"open": open_rings, "new": open_rings - 1, "in review": 1, "overdue": open_rings,
                          "decided": 3, "median days to decision": 3.0, "overdue after days": 7}
    if len(set(stamp.values())) == 1:  # one run flagged them all: the window holds the 1- and 3-day decisions
        assert (early["decided"], early["median days to decision"]) == (2, 2.0)


def test_the_audit_log_covers_queue_actions_and_catches_a_deleted_take(db):
    first, second, *_ = _rings(db)
    with open_engine("embedded", db) as engine:
        queue.take(engine, first, "ann")
        queue.comment(engine, second, "bob", "looks like a lab")
        result = audit.verify(engine)
        entries = engine.records("audit")
    assert result.ok, result.message()
    assert entries["action"].tolist() == ["take_ring", "comment_ring"]
    assert entries["details"].iloc[0]["owner"] == "ann"
    with open_engine("embedded", db) as engine:  # the audit page's one-line summaries
        shown = case_views.audit_entries(engine)["what"].tolist()
    assert shown == [f"commented on ring {second}: looks like a lab", f"took ring {first}"]
    with duckdb.connect(db) as con:
        con.execute("DELETE FROM ledger WHERE ledger = 'queue' AND seq = 0")
    with open_engine("embedded", db) as engine:
        assert queue.owners(engine) == {}  # the take is gone from the read model ...
        found = audit.verify(engine)
    assert not found.ok and "queue ledger row is missing (deleted)" in found.message()  # ... and verify says so


def run(db, *args):
    result = CliRunner().invoke(main, [*args, "--db", db])
    assert "Traceback" not in result.output
    return result


def ok(db, *args) -> str:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_queue_from_the_command_line(db):
    first, second, *_ = _rings(db)
    listed = ok(db, "queue").splitlines()
    assert listed[0].endswith("(open over 7 days)") and listed[0].startswith(f"{len(_rings(db))} open (")
    assert listed[1].split() == ["ring", "risk", "size", "status", "owner", "days", "overdue", "comments"]
    assert listed[2].split()[0] == first  # riskiest first
    assert f"took ring {first} (by ann, audit entry 0)" in ok(db, "take", first, "--analyst", "Ann")
    refused = run(db, "take", first, "--analyst", "bob")
    assert refused.exit_code == 1 and refused.output.strip().count("\n") == 0
    assert f"ring {first} is held by ann" in refused.output
    assert run(db, "take", second).exit_code == 1  # nobody named
    mine = ok(db, "queue", "--mine", "--analyst", "ANN").splitlines()
    assert len(mine) == 3 and mine[2].split()[:1] == [first] and "in review" in mine[2] and "ann" in mine[2]
    assert "no rings match" in ok(db, "queue", "--owner", "bob")
    assert "to bob from ann: ann is away" in ok(db, "assign", first, "--to", "bob", "--note", "ann is away",
                                                "--analyst", "lead")
    assert "commented on ring" in ok(db, "comment", first, "one issuer", "--analyst", "bob")
    assert "1" == ok(db, "queue", "--owner", "bob").splitlines()[2].split()[-1]  # one comment
    ok(db, "release", first, "--analyst", "bob")
    ok(db, "decide", second, "--as", "fraud", "--analyst", "ann")
    assert second not in ok(db, "queue") and second in ok(db, "queue", "--status", "decided")
    ok(db, "policy", "set", "overdue-days", "off", "--note", "no deadline", "--analyst", "lead")
    assert "overdue off" in ok(db, "queue") and "OVERDUE" not in ok(db, "queue")
    assert "audit log intact: 6 entries" in ok(db, "audit", "verify")


def test_the_weekly_review_reports_queue_health(db, tmp_path):
    first = _rings(db)[0]
    with open_engine("embedded", db) as engine:
        queue.take(engine, first, "ann")
        review = build_review(engine)
    assert review.queue["open"] == len(_rings(db)) and review.queue["in review"] == 1
    page = render_html(review)
    assert "id='queue-health'" in page and "in review: 1" in page and "median days to decision" in page
    printed = [line for line in ok(db, "review", "--out", str(tmp_path / "review.html")).splitlines()
               if line.startswith("review queue: ")]
    assert printed[0] == (f"review queue: open now: {len(_rings(db))} ({len(_rings(db)) - 1} new, in review: 1); "
                          f"overdue now: {review.queue['overdue']} (open over 7 days since first flagged); "
                          "rings decided in the window: 0; median days to decision: none decided")


@pytest.mark.parametrize("command", [["queue"], ["take", "R-x", "--analyst", "ann"], ["release", "R-x", "--analyst", "ann"],
                                     ["assign", "R-x", "--to", "bob", "--analyst", "ann"],
                                     ["comment", "R-x", "hello", "--analyst", "ann"]])
def test_queue_commands_refuse_a_mistyped_store(tmp_path, command):
    typo = tmp_path / "typo.duckdb"
    result = run(str(typo), *command)
    assert result.exit_code == 1 and f"store {typo} does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("engine_param", ["embedded", "memory", NEO4J])
def test_the_queue_works_on_every_engine(engine_param, request, tmp_path, monkeypatch):
    """Queue rows go through the engine seam like every ledger: no engine-specific code."""
    if engine_param == "memory":
        request.getfixturevalue("memory_engine")
    monkeypatch.delenv("RINGWATCH_AUDIT_KEY", raising=False)
    with open_engine(engine_name(engine_param, monkeypatch), tmp_path / "queue.duckdb") as engine:
        engine.clear_store()  # a shared server: start empty
        rings = pd.DataFrame({"ring_id": ["R-a", "R-b"], "cluster_id": ["a0", "b0"], "size": [3, 4],
                              "risk_score": [0.9, 0.95], "flagged": [True, True]})
        engine.save_results({"rings": rings, "runs": pd.DataFrame({"finished_at": [pd.Timestamp("2026-11-02")]})})
        engine.append_records("lineage", pd.DataFrame({
            "run_at": "2026-11-02T00:00:00", "data_until": "2026-11-01T00:00:00", "flagged": True, "event": "new",
            "ring_id": ["R-a", "R-b"], "related_ids": "", "size_before": 0, "size_after": [3, 4], "joined": [3, 4],
            "left": 0}))
        queue.take(engine, "R-a", "ann", at="2026-11-03T00:00:00.000000Z")
        queue.assign(engine, "R-a", "bob", "lead", "ann is away", at="2026-11-03T01:00:00.000000Z")
        queue.comment(engine, "R-b", "bob", "one issuer", at="2026-11-03T02:00:00.000000Z")
        table = queue_views.queue(engine, now="2026-11-11T00:00:00Z")
        verified = audit.verify(engine)
        engine.clear_store()
    assert verified.ok, verified.message()
    assert table[["ring_id", "status", "owner", "age_days", "overdue", "comments"]].values.tolist() == [
        ["R-b", "new", "", 10.0, True, 1], ["R-a", "in_review", "bob", 10.0, True, 0]]
