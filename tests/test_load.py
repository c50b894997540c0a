"""Loading into the store: counts add up, re-runs change nothing, new files add."""

from __future__ import annotations

import csv
import gzip

import pandas as pd
import pytest

from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import file_digest, ingest
from ringwatch.ingest.errors import ContractError


def _signups(ids):
    return pd.DataFrame({"account_id": ids, "created_at": ["2026-10-01T10:00:00Z"] * len(ids),
                         "email": [f"u{i}@example.org" for i in range(len(ids))]})


def test_new_files_add_and_repeated_files_are_counted_as_duplicates(tmp_path):
    _signups(["001", "002", "003"]).to_csv(tmp_path / "a.csv", index=False)
    _signups(["003", "004"]).to_csv(tmp_path / "b.csv", index=False)
    usage = pd.DataFrame({"account_id": ["001", "002", "bad"], "ts": ["2026-10-02T00:00:00Z", "2026-10-02T00:05:00Z", "nonsense"]})
    usage.to_csv(tmp_path / "usage.csv", index=False)
    q = tmp_path / "quarantine.csv"
    with open_engine("embedded", tmp_path / "s.duckdb") as eng:
        first = ingest(eng, signups=str(tmp_path / "a.csv"), usage=str(tmp_path / "usage.csv"), quarantine_path=q)
        assert eng.counts()["accounts"] == 3 and eng.counts()["usage_rows"] == 2
        rows = list(csv.DictReader(open(q, newline="")))
        assert [(r["row"], r["column"]) for r in rows] == [("4", "ts")]
        again = ingest(eng, signups=str(tmp_path / "a.csv"), usage=str(tmp_path / "usage.csv"))
        assert eng.counts()["accounts"] == 3 and eng.counts()["usage_rows"] == 2
        more = ingest(eng, signups=str(tmp_path / "b.csv"))
        assert eng.counts()["accounts"] == 4
        # leading zeros survive the round trip
        assert eng.accounts()["account_id"].tolist() == ["001", "002", "003", "004"]
    for summary in (first, again, more):
        for kind in ("signups", "usage"):
            t = summary.totals(kind)
            assert t.rows_read == t.rows_loaded + t.rows_quarantined + t.duplicates
    assert again.totals("usage").duplicates == 2 and again.totals("signups").duplicates == 3
    assert more.totals("signups").rows_loaded == 1 and more.totals("signups").duplicates == 1


def test_a_file_damaged_midway_leaves_nothing_half_loaded(tmp_path):
    rows = "".join(f"{i:05d},2026-10-02T00:00:00Z,fp{i}\n" for i in range(20_000))
    data = gzip.compress(("account_id,ts,prompt_fingerprint\n" + rows).encode())
    (tmp_path / "usage.csv.gz").write_bytes(data[: len(data) * 2 // 3])  # truncated
    with open_engine("embedded", tmp_path / "s.duckdb") as eng:
        with pytest.raises(ContractError):
            ingest(eng, usage=str(tmp_path / "usage.csv.gz"), chunk_rows=1000)
        assert eng.counts()["usage_rows"] == 0
        assert not eng.seen_file("usage", file_digest(tmp_path / "usage.csv.gz"))
