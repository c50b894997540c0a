"""Exports follow the contract columns and are safe against spreadsheet formula injection."""

from __future__ import annotations

import csv

import pandas as pd

from ringwatch.graph.casework import exports as export
from ringwatch.graph.engines import open_engine


def _store(path):
    eng = open_engine("embedded", path)
    accounts = pd.DataFrame({
        "account_id": ["=HYPERLINK(\"http://x\")", "b", "c", "+cmd", "@SUM(1)"],
        "ring_id": ["R-1", "R-1", None, "R-1", "R-2"],
        "risk_score": [0.9, 0.95, 0.1, 0.9, 0.7],
        "flagged": [True, True, False, True, True],
        "reasons": ["-2+3", "<script>alert(1)</script>", "", "x", "y"],
        "cluster_id": ["b", "b", None, "b", "c"],
    })
    eng.save_results({"accounts": accounts})
    return eng


def test_ban_csv_neutralises_formulas_and_orders_deterministically(tmp_path):
    with _store(tmp_path / "s.duckdb") as eng:
        n = export.write_csv(export.bans_table(eng), tmp_path / "bans.csv")
        again = export.write_csv(export.bans_table(eng), tmp_path / "bans2.csv")
        only_r2 = export.bans_table(eng, rings=["R-2"])
        high = export.bans_table(eng, min_score=0.9)
    assert n == again == 4
    assert (tmp_path / "bans.csv").read_bytes() == (tmp_path / "bans2.csv").read_bytes()
    rows = list(csv.DictReader(open(tmp_path / "bans.csv", newline="")))
    assert list(rows[0]) == export.BAN_COLUMNS
    assert [r["account_id"] for r in rows] == ["b", "'+cmd", "'=HYPERLINK(\"http://x\")", "'@SUM(1)"]
    assert rows[2]["reasons"] == "'-2+3"
    assert rows[0]["reasons"] == "<script>alert(1)</script>"  # text, not a formula: kept as is
    assert list(only_r2["account_id"]) == ["@SUM(1)"]
    assert set(high["account_id"]) == {"b", "=HYPERLINK(\"http://x\")", "+cmd"}


def test_accounts_export_has_contract_columns(tmp_path):
    with _store(tmp_path / "s.duckdb") as eng:
        export.write_csv(export.accounts_table(eng), tmp_path / "acc.csv")
    rows = list(csv.DictReader(open(tmp_path / "acc.csv", newline="")))
    assert list(rows[0]) == export.ACCOUNT_COLUMNS
    assert {r["flagged"] for r in rows} == {"true", "false"}
    assert next(r for r in rows if r["account_id"] == "c")["ring_id"] == ""
