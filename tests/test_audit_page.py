"""The audit log page: filter by analyst, action, ring, account and dates; export the filtered view, audited and
formula-safe."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil

import pandas as pd
import pytest
from casework_store import make_worked_store
from dashboard_store import FORMULA, open_app
from ringwatch.dashboard import actions
from ringwatch.dashboard.identity import Identity
from ringwatch.graph.casework import audit
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports.audit_view import audit_view, filter_audit


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    return make_worked_store(tmp_path_factory.mktemp("audit"))


@pytest.fixture
def store(worked, tmp_path, monkeypatch):
    """A private copy of the worked store (the export tests write to it)."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(worked["db"], copy)
    monkeypatch.setenv("RINGWATCH_DB", str(copy))
    monkeypatch.delenv("RINGWATCH_ANALYST", raising=False)
    return {**worked, "db": copy}


def _shown(at) -> pd.DataFrame:
    return at.dataframe[0].value


def test_filters_by_analyst_and_action(store):
    at = open_app("app_pages/audit.py")
    everything = _shown(at)
    at.multiselect(key="audit_analysts").set_value(["zed"]).run()
    assert set(_shown(at)["analyst"]) == {"zed"}
    at.multiselect(key="audit_actions").set_value(["decision"]).run()
    shown = _shown(at)
    assert list(shown["action"]) == ["decision", "decision"] and set(shown["analyst"]) == {"zed"}
    assert any(f"2 of {len(everything):,} entries match" in c.value for c in at.caption)


def test_filters_by_ring_touched(store):
    at = open_app("app_pages/audit.py")
    at.text_input(key="audit_ring").input(f"  {store['a']} ").run()
    shown = _shown(at)
    # the decision on ring A, the batch proposed of it and (above the four-eyes size) its approval
    assert "decision" in set(shown["action"]) and "propose_batch" in set(shown["action"])
    assert all(store["a"] in rings.split(", ") for rings in shown["rings"])
    assert not shown["what"].str.contains(store["c"]).any()


def test_filters_by_account_touched(store):
    with open_engine("embedded", store["db"]) as engine:
        member = store["batch_c"]["accounts"][0]
        expected = {"decision", "propose_batch"} | ({"approve_batch"} if store["batch_c"]["needs_approval"] else set())
        found = filter_audit(audit_view(engine), account=member)
    assert set(found["action"]) == expected and (found["analyst"].isin(["zed", "bob"])).all()
    at = open_app("app_pages/audit.py")
    at.text_input(key="audit_account").input(member).run()
    assert list(_shown(at)["seq"]) == list(found["seq"])


def test_filters_by_date_range(store):
    day = store["last"].floor("D")
    at = open_app("app_pages/audit.py")
    at.date_input(key="audit_from").set_value(day.date()).run()
    at.date_input(key="audit_to").set_value(day.date()).run()
    shown = _shown(at)
    # only ann's work inside the data's last day; zed's came today
    assert len(shown) and set(shown["analyst"]) <= {"ann", "bob"}
    assert pd.to_datetime(shown["at"], format="ISO8601").dt.date.eq(day.date()).all()
    at.date_input(key="audit_from").set_value(None).run()
    at.date_input(key="audit_to").set_value(pd.Timestamp.now(tz="UTC").date()).run()
    assert "zed" in set(_shown(at)["analyst"])


def test_the_export_needs_a_name(store):
    at = open_app("app_pages/audit.py")
    button = at.get("download_button")[0]
    assert button.proto.disabled
    with pytest.raises(PermissionError):
        actions.audit_download(("embedded", str(store["db"]), 0.0), Identity("", "anonymous", False), {})


def test_the_export_is_the_filtered_view_formula_safe_and_audited(store):
    key = ("embedded", str(store["db"]), 0.0)
    filters = {"analysts": ("zed",), "actions": ("decision",), "ring": "", "account": "", "start": None, "end": None}
    with open_engine("embedded", store["db"]) as engine:
        before = len(engine.records("audit"))
        expected = filter_audit(audit_view(engine), **filters)
    content = actions.audit_download(key, Identity("carol", "declared", False), filters)()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert [r["seq"] for r in rows] == [str(s) for s in expected["seq"]]
    assert list(rows[0]) == ["seq", "at", "analyst", "action", "what", "rings", "hash"]
    # the note starting with "=" comes out as text: every cell starting with a formula character is quoted
    formula_row = next(r for r in rows if FORMULA in r["what"])
    assert not formula_row["what"].startswith("=")
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    with open_engine("embedded", store["db"]) as engine:
        log = engine.records("audit")
        recorded = engine.records("exports").iloc[-1]
        assert audit.verify(engine).ok
    assert len(log) == before + 1 and log["action"].iloc[-1] == "export_audit"
    assert recorded["what"] == "audit" and recorded["analyst"] == "carol" and recorded["rows"] == len(rows)
    assert recorded["selection"]["analysts"] == ["zed"] and recorded["selection"]["actions"] == ["decision"]
    assert recorded["content_hash"] == hashlib.sha256(content).hexdigest()


def test_a_formula_cell_is_quoted_in_the_export(store):
    key = ("embedded", str(store["db"]), 0.0)
    with open_engine("embedded", store["db"]) as engine:
        from ringwatch.graph.casework import decisions

        decisions.decide(engine, store["b"], "needs_review", "=1+1", "check")
    filters = {"analysts": ("=1+1",), "actions": (), "ring": "", "account": "", "start": None, "end": None}
    content = actions.audit_download(key, Identity("carol", "declared", False), filters)()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert [r["analyst"] for r in rows] == ["'=1+1"]
