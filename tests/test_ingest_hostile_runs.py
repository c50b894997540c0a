"""Hostile runs of ingest: a bad file among good ones, re-runs, re-delivered usage.

Real files on disk, a real DuckDB store, and the command line where the behaviour is the
command's: nothing loads when any file lacks a required column, every run's quarantine file
is kept and named, and usage delivered twice is recognised (request_id) or reported.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.ingest.errors import ContractError

from ringwatch.cli import main


def _signups(path: Path, ids, created="2024-03-01") -> Path:
    pd.DataFrame({"account_id": ids, "created_at": created}).to_csv(path, index=False)
    return path


def _usage(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False, compression="gzip" if path.suffix == ".gz" else None)
    return path


def _run(args) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def _counts(db: Path) -> dict:
    with open_engine("embedded", db) as engine:
        return engine.counts()


# ---------------------------------------------------------------- all files checked before any loads


@pytest.mark.parametrize("bad_kind", ["usage", "labels"])
def test_a_missing_column_in_any_file_fails_before_anything_loads(tmp_path, bad_kind):
    signups = _signups(tmp_path / "signups.csv", ["a1", "a2"])
    good_usage = _usage(tmp_path / "usage.csv", [{"account_id": "a1", "ts": "2024-03-01T00:00:00Z"}])
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id,when\na1,2024-03-01\n")
    paths = {"signups": str(signups), "usage": str(good_usage), bad_kind: str(bad)}
    with open_engine("embedded", tmp_path / "store.duckdb") as engine:
        with pytest.raises(ContractError, match="bad.csv"):
            ingest(engine, **paths)
        assert engine.counts()["accounts"] == 0 and engine.counts()["usage_rows"] == 0
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(main, ["ingest", "--db", str(db), *[a for k, p in paths.items() for a in (f"--{k}", p)]])
    assert result.exit_code == 1 and "bad.csv" in result.output
    assert _counts(db)["accounts"] == 0


# ---------------------------------------------------------------- quarantine files, one per run


def _written(output: str) -> Path:
    return Path(re.search(r"quarantined rows written to (.+)", output).group(1).strip())


def test_every_run_keeps_its_own_quarantine_file_and_the_command_names_it(tmp_path):
    db = tmp_path / "store.duckdb"
    first = _signups(tmp_path / "first.csv", ["a1", "a2"], ["2024-03-01", "bad"])
    second = _signups(tmp_path / "second.csv", ["b1", "b2"], ["2024-03-01", "also bad"])
    one = _written(_run(["ingest", "--db", str(db), "--signups", str(first)]))
    kept = one.read_bytes()
    again = _run(["ingest", "--db", str(db), "--signups", str(first)])  # nothing new quarantined
    assert "quarantined rows written" not in again and "no rows quarantined" in again
    two = _written(_run(["ingest", "--db", str(db), "--signups", str(second)]))
    assert one != two and one.parent == two.parent == tmp_path
    assert one.read_bytes() == kept  # never replaced, never deleted
    assert [r["value"] for r in csv.DictReader(two.open())] == ["also bad"]
    assert _counts(db)["quarantined"] == 2
    # An explicit path that already holds a file gets this run's file beside it.
    chosen = tmp_path / "q.csv"
    chosen.write_text("an earlier run's file\n")
    third = _signups(tmp_path / "third.csv", ["c1"], ["never"])
    written = _written(_run(["ingest", "--db", str(db), "--signups", str(third), "--quarantine", str(chosen)]))
    assert written == tmp_path / "q-2.csv" and chosen.read_text() == "an earlier run's file\n"


# ---------------------------------------------------------------- usage delivered twice


def _day(account: str, day: str, hours: range, with_ids: bool = True) -> list[dict]:
    return [{"account_id": account, "ts": f"{day}T{h:02d}:00:00Z", "requests": 2, "output_tokens": 10,
             **({"request_id": f"{account}-{day}-{h}"} if with_ids else {})} for h in hours]


@pytest.mark.parametrize("engine_name", ["embedded", "memory"])
def test_usage_rows_are_recognised_by_request_id_when_delivered_again(tmp_path, engine_name, request):
    if engine_name == "memory":
        request.getfixturevalue("memory_engine")
    day = _day("a1", "2024-03-01", range(10)) + _day("a2", "2024-03-01", range(5))
    first = _usage(tmp_path / "day1.csv", day)
    # The same day exported again, shuffled and compressed, with one new row and one repeated inside.
    again = pd.DataFrame(day).sample(frac=1.0, random_state=3).to_dict("records")
    again += _day("a2", "2024-03-01", range(5, 6)) + _day("a2", "2024-03-01", range(5, 6))
    second = _usage(tmp_path / "day1-again.csv.gz", again)
    with open_engine(engine_name, tmp_path / "store.duckdb") as engine:
        one = ingest(engine, usage=str(first))
        two = ingest(engine, usage=str(second))
        assert engine.counts()["usage_rows"] == 16
        assert engine.usage_summary().set_index("account_id")["requests"].to_dict() == {"a1": 20.0, "a2": 12.0}
    assert one.totals("usage").rows_loaded == 15
    totals = two.totals("usage")
    assert (totals.rows_read, totals.rows_loaded, totals.duplicates) == (17, 1, 16)
    assert two.overlapping_accounts == 0  # rows with a request_id are recognised, not reported
    for summary in (one, two):
        summary.check()


def test_request_id_reaches_a_store_made_before_it_existed(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE usage (account_id VARCHAR, ts TIMESTAMP, ip VARCHAR, model VARCHAR, "
                "prompt_fingerprint VARCHAR, input_tokens BIGINT, output_tokens BIGINT, requests BIGINT, "
                "user_agent VARCHAR)")
    con.execute("INSERT INTO usage (account_id, ts, requests) VALUES ('a0', '2024-02-01', 1)")
    con.close()
    path = _usage(tmp_path / "u.csv", _day("a1", "2024-03-01", range(3)))
    with open_engine("embedded", db) as engine:
        ingest(engine, usage=str(path))
        ingest(engine, usage=str(_usage(tmp_path / "u2.csv", _day("a1", "2024-03-01", range(4)))))
        assert engine.counts()["usage_rows"] == 5


def test_overlapping_usage_without_request_ids_is_reported(tmp_path):
    db = tmp_path / "store.duckdb"
    monday = _usage(tmp_path / "monday.csv", _day("a1", "2024-03-04", range(12), False)
                    + _day("a2", "2024-03-04", range(12), False))
    tuesday = _usage(tmp_path / "tuesday.csv", _day("a1", "2024-03-05", range(12), False))
    out = _run(["ingest", "--db", str(db), "--usage", str(monday)])
    out += _run(["ingest", "--db", str(db), "--usage", str(tuesday)])
    assert "warning" not in out  # consecutive days do not overlap
    # Monday re-exported with its rows in another order: counted again, and said so.
    again = _usage(tmp_path / "monday-again.csv.gz",
                   pd.read_csv(monday).sample(frac=1.0, random_state=1).to_dict("records"))
    out = _run(["ingest", "--db", str(db), "--usage", str(again)])
    warning = re.search(r"warning: (\d+) accounts have usage in overlapping time ranges.*monday-again\.csv\.gz 2", out)
    assert warning and warning.group(1) == "2"
    # Two overlapping files in one run are reported too.
    other = tmp_path / "other.duckdb"
    late = _usage(tmp_path / "late.csv", _day("a1", "2024-03-04", range(6, 18), False))
    assert late.exists()
    out = _run(["ingest", "--db", str(other), "--usage", str(tmp_path / "[ml]*.csv")])  # monday.csv, late.csv
    assert re.search(r"warning: 1 accounts have usage in overlapping time ranges", out)
