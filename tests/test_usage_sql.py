"""A usage file's clean rows stored in SQL give the store exactly what row-by-row validation gives.

Each file is ingested twice into fresh stores: once by the embedded engine as it is (the clean
rows checked and stored from the file, ``ingest.usage_sql``), once with that turned off, every
row validated in Python. Stored usage, quarantine rows, the run's counts and the overlap report
must be identical, and the SQL path must really have been taken where the file qualifies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ringwatch.graph.engines.embedded.engine import EmbeddedEngine
from ringwatch.graph.load import ingest
from ringwatch.ingest import usage_sql
from ringwatch.ingest.sources import open_source
from ringwatch.ingest.usage_sql import usage_plan


@pytest.fixture(autouse=True, params=["per row", "per value"])
def tested_per(request, monkeypatch):
    """Every test runs with the text columns tested once per row, then once per distinct value."""
    monkeypatch.setattr(usage_sql, "FEW_VALUES", 0.0 if request.param == "per row" else 1.0)
    return request.param


NOW = pd.Timestamp.now(tz="UTC").tz_localize(None)
SOON = (NOW + pd.Timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
LATE = (NOW + pd.Timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")

# (account_id, ts, ip, model, prompt_fingerprint, input_tokens, requests, user_agent, note)
ROWS = [
    ("acct_1", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 10, 1, "sdk/1.0", "plain"),
    ("acct_1", "2026-03-01 10:05:00", "203.0.113.7", "m-1", "fp_a", 10, 2, "sdk/1.0", "plain"),
    ("acct_2", "2026-03-01T10:00:00.123456+05:30", "198.51.100.9", None, None, None, None, None, "offset"),
    ("acct_2", "2026-03-01T23:59:59-04:00", "2001:db8::1", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6"),
    ("acct_2", "2026-03-01T23:59:59Z", "2001:DB8::1", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 upper case"),
    ("acct_2", "2026-03-01T23:59:59Z", "2001:0db8::1", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 leading zero"),
    ("acct_2", "2026-03-01T23:59:59Z", "2001:db8:0:0:1::1", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 shorter run"),
    ("acct_2", "2026-03-01T23:59:59Z", "fe80::1", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 link-local"),
    ("acct_2", "2026-03-01T23:59:59Z", "::ffff:203.0.113.7", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 mapped v4"),
    ("acct_2", "2026-03-01T23:59:59Z", "1111:1111::1111", "m-1", "fp_b", 5, 1, "sdk/1.0", "ipv6 one digit"),
    ("acct_3", "2026-03-01T10:00:00.1234567Z", "203.0.113.8", "m-1", "fp_a", 5, 1, "sdk/1.0", "nanoseconds"),
    ("acct_3", "2026-02-30T10:00:00Z", "203.0.113.8", "m-1", "fp_a", 5, 1, "sdk/1.0", "no such day"),
    ("acct_3", "1999-12-31T23:59:59Z", "203.0.113.8", "m-1", "fp_a", 5, 1, "sdk/1.0", "too early"),
    ("acct_3", SOON, "203.0.113.8", "m-1", "fp_a", 5, 1, "sdk/1.0", "within a day"),
    ("acct_3", LATE, "203.0.113.8", "m-1", "fp_a", 5, 1, "sdk/1.0", "too late"),
    ("acct_4", "2026-03-01T24:00:00Z", " 203.0.113.9 ", "m-1", "fp_a", 5, 1, "sdk/1.0", "hour 24, padded ip"),
    ("acct_4", " 2026-03-01T10:00:00Z", "127.0.0.1", "none", "fp  a", -1, 1, "sdk/1.0", "padded ts, loopback"),
    ("acct_4", "2026-03-01T10:00:00Z", "010.1.1.1", "M-1", "N/A", 99_000_000, 1, "sdk\t1.0", "zeros, tab"),
    ("acct_4", "2026-03-01T10:00:00Z", "111.111.111.111", "m-1", "fp_a", 5, 0, "sdk/1.0", "repeated digit"),
    ("acct_4", "2026-03-01T10:00:00Z", "169.254.1.1", "m-1", "fp_a", 5, 1_000_001, "sdk/1.0", "link-local"),
    ("NULL", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "placeholder id"),
    (None, "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "no id"),
    ("  ", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "blank id"),
    ("12345", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "digits only"),
    ("acct 5", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "a space"),
    ("acct_5@x", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "an at sign"),
    ("acct_é", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "not ASCII"),
    ("acct_6", "2026-03-01T10:00:00Z", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "bell in extra"),
    ("acct_6", "2026-03-01", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "date only"),
    ("acct_6", "not a time", "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "not a time"),
    ("acct_6", None, "203.0.113.7", "m-1", "fp_a", 5, 1, "sdk/1.0", "no time"),
]


def _frame(copies: int = 1) -> pd.DataFrame:
    rows = [r for _ in range(copies) for r in ROWS]
    frame = pd.DataFrame(rows, columns=["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens",
                                        "requests", "user_agent", "note"])
    frame["note"] = frame["note"].where(frame["note"] != "bell in extra", "bell\x07")
    return frame


def _ingest(tmp_path, name: str, files: list, scan: bool, monkeypatch) -> dict:
    """Ingest ``files`` into a new store; the store's usage, quarantine and the run's report."""
    calls = []
    with monkeypatch.context() as patch:
        if not scan:
            patch.setattr(EmbeddedEngine, "scan_files", None)
        original = EmbeddedEngine.load_usage_file
        patch.setattr(EmbeddedEngine, "load_usage_file", lambda self, plan: calls.append(plan) or original(self, plan))
        with EmbeddedEngine(tmp_path / f"{name}.duckdb") as engine:
            reports = [ingest(engine, usage=str(f)) for f in files]
            usage = engine.usage_rows()
            quarantine = engine._select("quarantine")
    order = ["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens", "requests", "request_id"]
    return {
        "usage": usage.sort_values(order, na_position="first").reset_index(drop=True).astype(object),
        "quarantine": quarantine.sort_values(["source", "row"]).reset_index(drop=True).astype(object),
        "counts": [r.as_rows() for r in reports],
        "overlaps": [(r.usage_overlaps, r.overlapping_accounts) for r in reports],
        "plans": calls,
    }


def _same(tmp_path, files, monkeypatch) -> dict:
    by_sql = _ingest(tmp_path, "sql", files, True, monkeypatch)
    by_row = _ingest(tmp_path, "rows", files, False, monkeypatch)
    assert not by_row["plans"]
    pd.testing.assert_frame_equal(by_sql["usage"], by_row["usage"])
    pd.testing.assert_frame_equal(by_sql["quarantine"], by_row["quarantine"])
    assert by_sql["counts"] == by_row["counts"]
    assert by_sql["overlaps"] == by_row["overlaps"]
    return by_sql


def test_clean_rows_stored_in_sql_match_row_by_row_validation(tmp_path, monkeypatch):
    frame = _frame(copies=3)
    path = tmp_path / "usage.parquet"
    frame.to_parquet(path, index=False)
    result = _same(tmp_path, [path], monkeypatch)
    (plan,) = result["plans"]
    notes = frame["note"]
    clean = notes.isin(["plain", "offset", "ipv6", "within a day", "a space"])
    assert plan.clean_rows == int(clean.sum()) == 18
    assert len(plan.rest) == len(frame) - 18
    stored = result["usage"]
    # the offsets were converted to UTC, and the clean rows' missing counts took their defaults
    assert pd.Timestamp("2026-03-01T04:30:00.123456") in set(stored["ts"])
    offset = stored[stored["ts"] == pd.Timestamp("2026-03-01T04:30:00.123456")].iloc[0]
    assert (offset["input_tokens"], offset["requests"]) == (0, 1) and pd.isna(offset["model"])


def test_request_ids_keep_the_first_copy_whichever_path_it_takes(tmp_path, monkeypatch):
    base = {"ts": "2026-03-01T10:00:00Z", "ip": "203.0.113.7", "model": "m-1", "prompt_fingerprint": "fp"}
    rows = [
        {"account_id": "acct_1", "request_id": " r1", **base},   # rest (padded id): the first copy of r1
        {"account_id": "acct_2", "request_id": "r1", **base},    # clean, but r1 is a rest row's: rest too
        {"account_id": "acct_3", "request_id": "r2", **base},    # clean, first r2
        {"account_id": "acct_4", "request_id": "r2", **base},    # clean duplicate of r2
        {"account_id": "acct_5", "request_id": "r3", **base, "ip": "2001:db8::5"},  # rest (v6)
        {"account_id": "acct_6", "request_id": "r3 ", **base},   # rest: its loose form is r3
        {"account_id": "acct_7", "request_id": "old", **base},   # stored by the first file
        {"account_id": "acct_8", "request_id": None, **base},
        {"account_id": "acct_9", "request_id": None, **base},
    ]
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pd.DataFrame([{"account_id": "acct_0", "request_id": "old", **base}]).to_parquet(first, index=False)
    pd.DataFrame(rows).to_parquet(second, index=False)
    result = _same(tmp_path, [first, second], monkeypatch)
    stored = result["usage"].set_index("request_id", drop=False)
    assert sorted(result["usage"]["account_id"]) == ["acct_0", "acct_1", "acct_3", "acct_5", "acct_8", "acct_9"]
    assert stored.loc["r2", "account_id"] == "acct_3"
    plan = result["plans"][-1]
    assert sorted(plan.rest.column("file_row_number").to_pylist()) == [0, 1, 4, 5]
    assert result["counts"][-1][0]["duplicates"] == 4


def test_typed_columns_timestamps_and_counts_match(tmp_path, monkeypatch):
    n = 40
    rng = np.random.default_rng(5)
    ts = pd.Series(pd.Timestamp("2026-03-01", tz="Europe/Paris") + pd.to_timedelta(rng.integers(0, 86_400, n), "s"))
    tokens = rng.integers(0, 5_000, n).astype("float64")
    tokens[[1, 2, 3]] = [np.nan, 2.5, -0.0]
    table = pa.table({
        "Account_ID": [f"acct_{i % 7}" for i in range(n)],
        "ts": pa.array((ts.dt.tz_convert(None) - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1))
        .cast(pa.timestamp("ms", tz="Europe/Paris")),
        "input_tokens": pa.array(tokens),
        "output_tokens": pa.array([None if i % 5 == 0 else str(i) for i in range(n)][:-1] + [" 7"]),
        "requests": pa.array(rng.integers(-1, 3, n), type=pa.int32()),
        "day": pa.array([pd.Timestamp("2026-03-01").date()] * n, type=pa.date32()),
        "flag": pa.array([i % 2 == 0 for i in range(n)]),
    })
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    (plan,) = _same(tmp_path, [path], monkeypatch)["plans"]
    assert 0 < plan.clean_rows < n


@pytest.mark.parametrize("column", [
    pa.array([[1], [2]]),                          # nested: quarantined by the row reader
    pa.array([b"ok", b"\xe9dev"], type=pa.binary()),  # bytes: decoded and marked by the row reader
])
def test_files_that_do_not_qualify_are_read_row_by_row(tmp_path, monkeypatch, column):
    table = pa.table({"account_id": ["acct_1", "acct_2"], "ts": ["2026-03-01T10:00:00Z"] * 2, "extra": column})
    path = tmp_path / "odd.parquet"
    pq.write_table(table, path)
    assert usage_plan(open_source(path), NOW) is None
    assert _same(tmp_path, [path], monkeypatch)["plans"] == []


def test_a_file_the_engine_cannot_read_is_read_row_by_row(tmp_path, monkeypatch):
    # Text that is not UTF-8 in a text column: the row reader marks and quarantines it.
    table = pa.table({"account_id": pa.array([b"acct_1", b"acct_\xff"], type=pa.binary()).cast(pa.string(), safe=False),
                      "ts": ["2026-03-01T10:00:00Z"] * 2})
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    assert usage_plan(open_source(path), NOW) is not None
    result = _same(tmp_path, [path], monkeypatch)
    assert result["plans"] == []
    assert list(result["usage"]["account_id"]) == ["acct_1"]
    assert result["quarantine"]["value"].tolist() == ["acct_\\xff"]


def test_overlapping_files_are_reported_alike(tmp_path, monkeypatch):
    def day(name: str, start: str, accounts: range) -> object:
        times = pd.date_range(start, periods=6, freq="2h").strftime("%Y-%m-%dT%H:%M:%SZ")
        frame = pd.DataFrame([{"account_id": f"acct_{a}", "ts": t, "ip": "203.0.113.7"} for a in accounts for t in times])
        frame.loc[0, "ip"] = "2001:db8::1"  # one rest row per file
        frame.to_parquet(tmp_path / name, index=False)
        return tmp_path / name

    first = day("a.parquet", "2026-03-01T00:00:00", range(10))
    second = day("b.parquet", "2026-03-01T06:00:00", range(5, 15))  # accounts 5-9 overlap in time
    by_sql = _same(tmp_path, [first, second], monkeypatch)
    assert len(by_sql["plans"]) == 2
    assert by_sql["overlaps"][-1] == ({str(second): 5}, 5)
