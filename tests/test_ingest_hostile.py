"""Hostile input files: bytes that are not UTF-8, control characters, nested values, broken quoting.

Each file is real, on disk, read by the reader and loaded into a real DuckDB store: bad rows
go to quarantine naming their line and column, the good rows of the same file load, and the
counts add up.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.ingest.reader import read_records

HEADER = b"account_id,created_at,email,device_id\n"


def read_all(kind: str, path, **kwargs):
    batches = list(read_records(kind, path, **kwargs))
    rows = pd.concat([b.rows for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    return rows, quarantine, sum(b.rows_read for b in batches)


def load(tmp_path: Path, **paths):
    """Ingest into a fresh DuckDB store; the summary and what the store holds afterwards."""
    with open_engine("embedded", tmp_path / "store.duckdb") as engine:
        summary = ingest(engine, **paths)
        accounts = engine.accounts()
        identifiers = engine.account_identifiers(accounts["account_id"].tolist())
        return summary, accounts, identifiers, engine.counts()


def assert_counts_add_up(summary) -> None:
    for c in summary.counts.values():
        assert c.rows_read == c.rows_loaded + c.rows_quarantined + c.duplicates


# ---------------------------------------------------------------- text that is not UTF-8


def test_latin1_bytes_in_a_utf8_csv_are_quarantined_not_linked(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes(HEADER
                     + b"a1,2024-03-01,\xe9dev@example.org,\xe9dev\n"
                     + b"a2,2024-03-01,\xe8dev@example.org,\xe8dev\n"
                     + b"a3,2024-03-01,ok@example.org,d3\n"
                     + b"a4,2024-03-01,ok4@example.org,d3\n")
    summary, accounts, identifiers, counts = load(tmp_path, signups=str(path))
    assert accounts["account_id"].tolist() == ["a3", "a4"]
    assert not identifiers["value"].str.contains("\ufffd").any()
    _, quarantine, read = read_all("signups", path)
    assert quarantine[["row", "column"]].values.tolist() == [[2, "email"], [3, "email"]]
    assert quarantine["reason"].tolist() == ["email is not valid UTF-8 text (line 2)",
                                             "email is not valid UTF-8 text (line 3)"]
    assert quarantine["value"].tolist() == ["\\xe9dev@example.org", "\\xe8dev@example.org"]
    assert counts["quarantined"] == 2 and read == 4
    assert_counts_add_up(summary)


def test_invalid_utf8_in_json_lines_and_gzip(tmp_path):
    good = json.dumps({"account_id": "a3", "created_at": "2024-03-01"}).encode()
    body = (b'{"account_id": "a1", "created_at": "2024-03-01", "device_id": "\xe9dev"}\n'
            + b'{"account_id": "a2", "created_at": "2024-03-01", "device_id": "\xe8dev"}\n' + good + b"\n")
    (tmp_path / "s.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "s.csv.gz").write_bytes(gzip.compress(
        HEADER + b"b1,2024-03-01,,\xe9dev\nb2,2024-03-01,,\xe8dev\nb3,2024-03-01,,d\n"))
    for name, good_id in (("s.jsonl.gz", "a3"), ("s.csv.gz", "b3")):
        rows, quarantine, _ = read_all("signups", tmp_path / name)
        assert rows["account_id"].tolist() == [good_id], name
        assert quarantine["column"].tolist() == ["device_id", "device_id"], name
        assert quarantine["reason"].str.contains("not valid UTF-8").all(), name
        assert not rows["device_id"].fillna("").str.contains("\ufffd").any()


# ---------------------------------------------------------------- control characters and nested values


@pytest.mark.parametrize("column,raw", [("account_id", b"a\x00b"), ("email", b"x\x00@example.org"),
                                        ("device_id", b"dev\x1b[0m"), ("device_id", b"dev\xc2\x85")])
def test_control_characters_are_quarantined_naming_the_column(tmp_path, column, raw):
    values = {"account_id": b"a1", "created_at": b"2024-03-01", "email": b"a1@example.org", "device_id": b"d1"}
    values[column] = raw
    path = tmp_path / "signups.csv"
    path.write_bytes(HEADER + b",".join(values.values()) + b"\n" + b"a2,2024-03-01,a2@example.org,d2\n")
    summary, accounts, _, _ = load(tmp_path, signups=str(path))
    assert accounts["account_id"].tolist() == ["a2"]
    _, quarantine, _ = read_all("signups", path)
    assert quarantine["column"].tolist() == [column]
    assert quarantine["reason"].iloc[0].startswith(f"{column} holds the control character U+")
    assert "\x00" not in quarantine["value"].iloc[0]
    assert_counts_add_up(summary)


def test_tabs_and_line_breaks_inside_values_are_not_control_characters(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes(HEADER + b'a1,2024-03-01,,"Mozilla\tx"\n' + b'a2,2024-03-01,,"two\r\nlines"\n')
    rows, quarantine, _ = read_all("signups", path)
    assert quarantine.empty and rows["account_id"].tolist() == ["a1", "a2"]


def test_json_objects_and_arrays_are_not_account_ids(tmp_path):
    path = tmp_path / "signups.jsonl"
    records = [{"account_id": {"nested": 1}, "created_at": "2024-03-01"},
               {"account_id": "a2", "created_at": "2024-03-01", "email": ["a@example.org"]},
               {"account_id": "a3\u0000", "created_at": "2024-03-01"},
               {"account_id": "a4", "created_at": "2024-03-01"}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    summary, accounts, _, _ = load(tmp_path, signups=str(path))
    assert accounts["account_id"].tolist() == ["a4"]
    _, quarantine, _ = read_all("signups", path)
    assert quarantine[["row", "column"]].values.tolist() == [[1, "account_id"], [2, "email"], [3, "account_id"]]
    assert quarantine["reason"].tolist()[:2] == ["account_id is a JSON object, not a single value (line 1)",
                                                 "email is a JSON array, not a single value (line 2)"]
    assert_counts_add_up(summary)


def test_nested_parquet_values_are_quarantined(tmp_path):
    table = pa.table({"account_id": ["a1", "a2"], "created_at": ["2024-03-01", "2024-03-01"],
                      "device_id": pa.array([["d1", "d2"], None], type=pa.list_(pa.string()))})
    pq.write_table(table, tmp_path / "s.parquet")
    rows, quarantine, read = read_all("signups", tmp_path / "s.parquet")
    assert rows["account_id"].tolist() == ["a2"]
    assert quarantine[["row", "column"]].values.tolist() == [[1, "device_id"]]
    assert read == 2


# ---------------------------------------------------------------- unbalanced quotes


def _nine_rows(damaged: dict[int, str]) -> bytes:
    lines = [f"a{i},2024-03-01,u{i}@example.org,d{i}" for i in range(1, 10)]
    for i, line in damaged.items():
        lines[i - 1] = line
    return HEADER + ("\n".join(lines) + "\n").encode()


def test_an_unbalanced_quote_quarantines_its_line_and_the_rest_loads(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes(_nine_rows({4: 'a4,2024-03-01,"u4@example.org,d4'}))
    summary, accounts, _, counts = load(tmp_path, signups=str(path))
    assert accounts["account_id"].tolist() == [f"a{i}" for i in (1, 2, 3, 5, 6, 7, 8, 9)]
    _, quarantine, read = read_all("signups", path, chunk_rows=3)
    assert quarantine[["row", "column"]].values.tolist() == [[5, "email"]]  # a4 sits on line 5
    assert quarantine["reason"].iloc[0].startswith("unbalanced quote in email")
    assert read == 9 and counts["quarantined"] == 1
    assert_counts_add_up(summary)


def test_two_unbalanced_quotes_do_not_swallow_the_lines_between(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes(_nine_rows({2: 'a2,"2024-03-01,u2@example.org,d2', 6: 'a6,2024-03-01,"u6@example.org,d6'}))
    rows, quarantine, read = read_all("signups", path)
    assert rows["account_id"].tolist() == [f"a{i}" for i in (1, 3, 4, 5, 7, 8, 9)]
    assert quarantine[["row", "column"]].values.tolist() == [[3, "created_at"], [7, "email"]]
    assert read == 9


def test_records_spanning_lines_are_kept_and_rows_are_numbered_by_their_line(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes(HEADER
                     + b'a1,2024-03-01,,"device\nwith ""quotes"" over\nthree lines"\n'
                     + b"a2,not a date,,d2\n"
                     + b'a3,2024-03-01,,"unclosed\n'
                     + b"a4,2024-03-01,,d4")  # no line end after the last record
    rows, quarantine, read = read_all("signups", path, chunk_rows=1)
    assert rows["account_id"].tolist() == ["a1", "a4"]
    assert rows["device_id"].iloc[0] == 'device with "quotes" over three lines'
    assert sorted(quarantine[["row", "column"]].values.tolist()) == [[5, "created_at"], [6, "device_id"]]
    assert read == 4
