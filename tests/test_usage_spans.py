"""Usage spans stay near one row per account and file however many batches a file has."""

import numpy as np
import pandas as pd
from ringwatch.ingest import reader
from ringwatch.ingest.reader import UsageSpans


def _batch(rng, rows: int, accounts: int, start: int, end: int) -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series([f"a{i}" for i in rng.integers(0, accounts, rows)], dtype="str"),
        "ts": (pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(start, end, rows), unit="s"))
        .astype("datetime64[us]"),
    })


def _feed(spans: UsageSpans, seed: int) -> UsageSpans:
    rng = np.random.default_rng(seed)
    for _ in range(12):
        spans.add("day1.parquet", _batch(rng, 2_000, 300, 0, 86_400))
    for _ in range(6):
        spans.add("day2.parquet", _batch(rng, 2_000, 300, 80_000, 172_800))
    return spans


def test_spans_are_merged_as_batches_arrive_and_overlaps_do_not_change(monkeypatch):
    whole = _feed(UsageSpans(lambda: None), seed=3)
    monkeypatch.setattr(reader, "_MERGE_FROM", 100)
    merged = _feed(UsageSpans(lambda: None), seed=3)
    # 300 accounts per file: never more than twice that is held, against 12 x 300 unmerged
    assert max(sum(len(p) for p in parts) for parts in merged._parts.values()) <= 600
    assert sum(len(p) for p in whole._parts["day1.parquet"]) > 3_000
    found = merged.overlaps()
    assert found == whole.overlaps()
    per_file, accounts = found
    assert per_file.keys() == {"day1.parquet", "day2.parquet"} and 0 < accounts <= 300


def test_one_file_and_an_empty_store_have_nothing_to_overlap():
    spans = UsageSpans(lambda: None)
    spans.add("day1.parquet", _batch(np.random.default_rng(1), 500, 50, 0, 1_000))
    assert spans.overlaps() == ({}, 0)
