"""The review queue in the dashboard (AppTest): the Queue page, its actions, and the Rings page's queue block."""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_store import button, make_demo_store, open_app
from ringwatch.dashboard import queue_panel
from ringwatch.graph.casework import audit, policy, queue
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import queue_views
from scenario_store import private_copy


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("queue_app"))


@pytest.fixture
def db(demo, tmp_path, monkeypatch):
    """A private copy of the demo store: these tests write to it."""
    copy = private_copy(demo, tmp_path, monkeypatch)
    monkeypatch.setenv("RINGWATCH_DB", str(copy))
    return copy


def _queue(db):
    with open_engine("embedded", db) as engine:
        return queue_views.queue(engine), queue.events(engine)


def _ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_page_lists_open_rings_by_risk_with_status_age_and_nothing_to_do_without_a_name(db):
    table, _ = _queue(db)
    at = open_app("app_pages/queue.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open"] == f"{len(table):,}" and metrics["New"] == metrics["Open"] and metrics["In review"] == "0"
    shown = at.dataframe[0].value
    assert shown["ring"].tolist() == table["ring_id"].tolist()  # open rings, riskiest first
    assert shown["status"].eq("new").all() and shown["owner"].eq("").all()
    assert list(shown.columns) == ["ring", "risk score", "accounts", "status", "owner", "days", "overdue",
                                   "first flagged", "comments", "last comment"]
    assert button(at, "Take").disabled
    assert at.toggle(key="queue_mine").disabled
    assert any("Enter your name in the sidebar to take a queue action" in c.value for c in at.caption)
    with open_engine("embedded", db) as engine:
        assert engine.records("audit").empty


def test_take_comment_reassign_and_release_from_the_queue_page(db):
    table, _ = _queue(db)
    top, other = table["ring_id"].iloc[0], table["ring_id"].iloc[1]
    at = open_app("app_pages/queue.py", analyst_name="Ann")
    assert at.selectbox(key="queue_ring").value == top
    button(at, "Take").click()
    _ok(at.run())
    assert any(f"You took {top}." in s.value for s in at.success)
    assert "in review" in at.markdown[0].value and "held by **ann**" in at.markdown[0].value
    assert {m.label: m.value for m in at.metric}["In review"] == "1"
    # My rings: only the ring Ann holds
    at.toggle(key="queue_mine").set_value(True)
    _ok(at.run())
    assert at.dataframe[0].value["ring"].tolist() == [top]
    at.text_area(key="queue_comment_text").input("cards from one issuer")
    button(at, "Add comment").click()
    _ok(at.run())
    history = at.dataframe[1].value
    assert history["action"].tolist() == ["comment", "take"] and history["note"].iloc[0] == "cards from one issuer"
    # reassigning to Bob: Ann holds it herself, so no note is needed
    at.text_input(key="queue_assign_to").input("Bob")
    button(at, "Reassign").click()
    _ok(at.run())
    assert any(f"{top} now belongs to Bob." in s.value for s in at.success)
    assert at.dataframe[0].value.empty  # My rings: Ann holds nothing now
    # Carol cannot take it or give it away without a note; Bob releases it
    at = open_app("app_pages/queue.py", analyst_name="carol")
    assert button(at, "Take").disabled and "Held by bob" in button(at, "Take").help
    at.text_input(key="queue_assign_to").input("carol")
    button(at, "Reassign").click()
    _ok(at.run())
    assert any(f"ring {top} is held by bob: say why it moves to carol" in e.value for e in at.error)
    at = open_app("app_pages/queue.py", analyst_name="bob")
    button(at, "Release").click()
    _ok(at.run())
    after, events = _queue(db)
    assert after.set_index("ring_id").at[top, "status"] == "new" and other in after["ring_id"].tolist()
    assert events["action"].tolist() == ["take", "comment", "assign", "release"]
    assert events["analyst"].tolist() == ["ann", "ann", "ann", "bob"]
    with open_engine("embedded", db) as engine:
        assert audit.verify(engine).ok


def test_the_queue_table_highlights_every_cell_of_the_overdue_rows_and_nothing_else():
    table = pd.DataFrame({"ring_id": ["R-1", "R-2", "R-3"], "risk_score": [0.9, 0.8, 0.7], "size": [5, 4, 3],
                          "status": ["new", "in_review", "new"], "owner": ["", "ann", ""], "age_days": [9.0, 1.0, 8.0],
                          "overdue": [True, False, True], "first_flagged": pd.Timestamp("2026-11-01"),
                          "comments": 0, "last_comment": ""}).iloc[[2, 0, 1]]
    styler = queue_panel.styled_table(table)
    styler._compute()
    columns = len(queue_panel.TABLE_COLUMNS)
    assert sorted(styler.ctx) == [(row, col) for row in (0, 1) for col in range(columns)]
    assert set(map(tuple, styler.ctx.values())) == {(("background-color", "#fde0dc"), ("color", "#7a1c12"))}
    assert "2026-11-01 00:00" in styler.to_html() and "0.900" in styler.to_html()


def test_a_queue_longer_than_the_highlight_limit_goes_unstyled_and_says_where_overdue_shows(db, monkeypatch):
    table, _ = _queue(db)
    assert len(table) > 2
    monkeypatch.setattr(queue_panel, "HIGHLIGHTED_ROWS", len(table) - 1)
    plain = queue_panel.styled_table(table)
    assert isinstance(plain, pd.DataFrame)  # no Styler: no display text for every cell
    assert plain["overdue"].tolist() == table["overdue"].astype(bool).tolist()
    at = open_app("app_pages/queue.py")
    assert at.dataframe[0].value["ring"].tolist() == table["ring_id"].tolist()
    assert any("ticked in the overdue column" in c.value for c in at.caption)
    monkeypatch.setattr(queue_panel, "HIGHLIGHTED_ROWS", len(table))
    assert not isinstance(queue_panel.styled_table(table), pd.DataFrame)
    assert any("Overdue rows are highlighted" in c.value for c in open_app("app_pages/queue.py").caption)


def test_overdue_rows_follow_the_store_policy(db):
    with open_engine("embedded", db) as engine:
        policy.set_policy(engine, "overdue-days", "0", "lead", "everything is late")
    at = open_app("app_pages/queue.py")
    shown = at.dataframe[0].value
    assert shown["overdue"].all() and {m.label: m.value for m in at.metric}["Overdue"] == f"{len(shown):,}"
    assert ":red[**overdue**]" in at.markdown[0].value
    at.toggle(key="queue_overdue").set_value(True)
    assert len(_ok(at.run()).dataframe[0].value) == len(shown)
    with open_engine("embedded", db) as engine:
        policy.set_policy(engine, "overdue-days", "off", "lead", "no deadline")
    at = open_app("app_pages/queue.py")
    assert not at.dataframe[0].value["overdue"].any()
    assert any(c.value.startswith("Overdue marking is off") for c in at.caption)
    assert "overdue" not in at.markdown[0].value


def test_the_rings_page_shows_the_owner_and_takes_and_releases(db):
    table, _ = _queue(db)
    top = table["ring_id"].iloc[0]
    at = open_app("app_pages/rings.py", analyst_name="ann")
    assert at.selectbox(key="ring").value == top
    header = [m.value for m in at.markdown if m.value.startswith("Queue: ")]
    assert header and "**new** · nobody holds it" in header[0]
    button(at, "Take").click()
    _ok(at.run())
    header = [m.value for m in at.markdown if m.value.startswith("Queue: ")]
    assert "**in review** · held by **ann**" in header[0]
    button(at, "Release").click()
    _ok(at.run())
    assert any(f"Released {top}." in s.value for s in at.success)
    _, events = _queue(db)
    assert events["action"].tolist() == ["take", "release"]


def test_an_owner_name_is_shown_as_text(db):
    table, _ = _queue(db)
    top = table["ring_id"].iloc[0]
    name = "![t](http://evil.example/a.png) <b>x</b>"
    with open_engine("embedded", db) as engine:
        queue.take(engine, top, name)
    at = open_app("app_pages/queue.py")
    line = at.markdown[0].value
    assert "held by **\\!\\[t\\](http" in line and "\\<b\\>" in line


def test_the_weekly_review_page_reports_queue_health(db):
    table, _ = _queue(db)
    with open_engine("embedded", db) as engine:
        queue.take(engine, table["ring_id"].iloc[0], "ann")
    at = open_app("app_pages/review.py")
    assert "Review queue" in [s.value for s in at.subheader]
    lines = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert lines[0] == f"- open now: {len(table):,} ({len(table) - 1:,} new, in review: 1)"
    assert lines[1].startswith("- overdue now: ") and lines[2].startswith("- rings decided in the window: 0")
