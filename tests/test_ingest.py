"""Reading, validating and quarantining signups, usage and labels files."""

import csv
import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.ingest.errors import ContractError, CountMismatchError
from ringwatch.ingest.identifiers import melt_identifiers
from ringwatch.ingest.reader import Batch, IngestSummary, read_records
from ringwatch.ingest.schema import OUTPUT_COLUMNS, QUARANTINE_COLUMNS

SIGNUP_HEADER = ["account_id", "created_at", "email", "phone", "ip", "device_id", "country"]


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records, opener=open) -> Path:
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def read_all(kind, path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame, list[Batch]]:
    batches = list(read_records(kind, path, **kwargs))
    rows = pd.concat([b.rows for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    for b in batches:
        assert b.rows_read == len(b.rows) + len(b.quarantine) + b.duplicates
        assert list(b.quarantine.columns) == list(QUARANTINE_COLUMNS)
    return rows, quarantine, batches


def one_signup(tmp_path, **overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
    row = {"account_id": "a1", "created_at": "2024-03-01T12:00:00Z", "email": "x@acme.example",
           "phone": "+14155550123", "ip": "203.0.113.7", "device_id": "d1", "country": "US"}
    row.update(overrides)
    path = write_csv(tmp_path / "s.csv", list(row), [list(row.values())])
    rows, quarantine, _ = read_all("signups", path)
    return rows, quarantine


def one_usage(tmp_path, **overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
    row = {"account_id": "a1", "ts": "2024-03-01T12:00:00Z", "input_tokens": "10",
           "output_tokens": "20", "requests": "2"}
    row.update(overrides)
    path = write_csv(tmp_path / "u.csv", list(row), [list(row.values())])
    rows, quarantine, _ = read_all("usage", path)
    return rows, quarantine


# ---------------------------------------------------------------- bad rows are quarantined


@pytest.mark.parametrize(
    "account_id, reason",
    [("", "account_id is missing"), ("   ", "account_id is missing"),
     ("null", "account_id is a placeholder value"), ("N/A", "account_id is a placeholder value")],
)
def test_missing_or_placeholder_key_is_quarantined(tmp_path, account_id, reason):
    rows, quarantine = one_signup(tmp_path, account_id=account_id)
    assert rows.empty
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[2, "account_id", reason]]
    assert quarantine["source"].iloc[0] == str(tmp_path / "s.csv")


@pytest.mark.parametrize(
    "created_at, reason",
    [
        ("", "created_at is missing"),
        ("yesterday", "created_at is not an ISO-8601 timestamp"),
        ("03/01/2024", "created_at is not an ISO-8601 timestamp"),
        ("2024-02-30T00:00:00", "created_at is not an ISO-8601 timestamp"),
        ("1999-12-31T23:59:59Z", "created_at is out of range (before 2000-01-01 or more than a "
                                 "day in the future)"),
        ("2999-01-01", "created_at is out of range (before 2000-01-01 or more than a day in the "
                       "future)"),
    ],
)
def test_bad_timestamp_is_quarantined(tmp_path, created_at, reason):
    rows, quarantine = one_signup(tmp_path, created_at=created_at)
    assert rows.empty
    assert quarantine[["column", "value", "reason"]].values.tolist() == [
        ["created_at", created_at, reason]]


def test_timestamps_become_utc_naive(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at"], [
        ["a", "2024-03-01T12:00:00+02:00"], ["b", "2024-03-01 12:00:00"],
        ["c", "2024-03-01T12:00:00Z"], ["d", "2024-03-01"], ["e", "2024-03-01T12:00:00.250-05:00"],
    ])
    rows, quarantine, _ = read_all("signups", path)
    assert quarantine.empty
    assert rows["created_at"].dtype == "datetime64[us]"
    assert rows["created_at"].tolist() == [
        pd.Timestamp("2024-03-01 10:00:00"), pd.Timestamp("2024-03-01 12:00:00"),
        pd.Timestamp("2024-03-01 12:00:00"), pd.Timestamp("2024-03-01 00:00:00"),
        pd.Timestamp("2024-03-01 17:00:00.250"),
    ]


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("input_tokens", "abc", "input_tokens is not a whole number"),
        ("input_tokens", "1.5", "input_tokens is not a whole number"),
        ("output_tokens", "-1", "output_tokens is negative"),
        ("requests", "two", "requests is not a whole number"),
        ("input_tokens", "10000001",
         "input_tokens is absurdly large (more than 10,000,000 in one row)"),
        ("requests", "1000001", "requests is absurdly large (more than 1,000,000 in one row)"),
    ],
)
def test_wrong_type_or_absurd_count_is_quarantined(tmp_path, column, value, reason):
    rows, quarantine = one_usage(tmp_path, **{column: value})
    assert rows.empty
    assert quarantine[["column", "value", "reason"]].values.tolist() == [[column, value, reason]]


def test_count_limits_and_defaults(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["account_id", "ts", "input_tokens", "requests"], [
        ["a", "2024-03-01T00:00:00", "10000000", "1000000"],  # at the limit: fine
        ["b", "2024-03-01T00:00:00", "", ""],  # empty: defaults
        ["c", "2024-03-01T00:00:00", " 7 ", "3.0"],  # integral float text is a whole number
    ])
    rows, quarantine, _ = read_all("usage", path)
    assert quarantine.empty
    assert rows["input_tokens"].tolist() == [10_000_000, 0, 7]
    assert rows["output_tokens"].tolist() == [0, 0, 0]  # column absent: default 0
    assert rows["requests"].tolist() == [1_000_000, 1, 3]
    assert all(str(rows[c].dtype) == "Int64" for c in ("input_tokens", "output_tokens", "requests"))
    assert list(rows.columns) == list(OUTPUT_COLUMNS["usage"])


@pytest.mark.parametrize("label", ["spam", "", "1"])
def test_bad_label_is_quarantined(tmp_path, label):
    path = write_csv(tmp_path / "l.csv", ["account_id", "label"], [["a", label], ["b", "Fraud"]])
    rows, quarantine, _ = read_all("labels", path)
    assert rows["label"].tolist() == ["fraud"]
    reason = "label is missing" if label == "" else "label is not 'fraud' or 'legit'"
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[2, "label", reason]]


def test_labels_columns_and_attributes(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["Account_Id", "LABEL", "ring_id", "Analyst"],
                     [["a", " LEGIT ", "", "kim"], ["b", "fraud", "R-7", ""]])
    rows, quarantine, _ = read_all("labels", path)
    assert quarantine.empty
    assert list(rows.columns) == list(OUTPUT_COLUMNS["labels"])
    assert rows["label"].tolist() == ["legit", "fraud"]
    assert pd.isna(rows["ring_id"].iloc[0]) and rows["ring_id"].iloc[1] == "R-7"
    assert json.loads(rows["attributes"].iloc[0]) == {"analyst": "kim"}
    assert pd.isna(rows["attributes"].iloc[1])  # blank attribute values are left out


def test_bad_optional_identifiers_are_nulled_not_quarantined(tmp_path):
    rows, quarantine = one_signup(tmp_path, email="not-an-email", phone="12", ip="0.0.0.0",
                                  device_id="unknown", country="XX")
    assert quarantine.empty and len(rows) == 1
    for column in ("email", "email_domain", "phone", "ip", "ip_net", "device_id", "country"):
        assert pd.isna(rows[column].iloc[0]), column


def test_identifiers_rejected_are_counted(tmp_path):
    path = write_csv(tmp_path / "s.csv", SIGNUP_HEADER, [
        ["a", "2024-03-01", "bad", "12", "0.0.0.0", "null", "US"],
        ["b", "2024-03-01", "ok@acme.example", "", "", "", ""],  # blanks are not rejections
        ["c", "2024-03-01", "test@test.com", "+14155550123", "999.1.1.1", "dev", "ZZ"],
    ])
    batches = list(read_records("signups", path))
    assert batches[0].identifiers_rejected == {
        "email": 2, "phone": 1, "ip": 2, "device_id": 1, "country": 1}
    summary = IngestSummary()
    summary.add(batches[0])
    assert summary.as_rows()[0]["identifiers_rejected"] == (
        "country 1, device_id 1, email 2, ip 2, phone 1")


def test_phones_that_cannot_be_validated_are_kept_and_counted(tmp_path):
    path = write_csv(tmp_path / "s.csv", SIGNUP_HEADER, [
        ["a", "2024-03-01", "", "+1 555 010 0123", "", "", "US"],
        ["b", "2024-03-01", "", "(555) 010-0123", "", "", "US"],  # the same unallocated number
        ["c", "2024-03-01", "", "+1 (202) 555-0143", "", "", ""],
        ["d", "2024-03-01", "", "12", "", "", ""],
    ])
    (batch,) = read_records("signups", path)
    assert batch.rows["phone"].tolist()[:3] == ["+15550100123", "+15550100123", "+12025550143"]
    assert batch.identifiers_unvalidated == {"phone": 2} and batch.identifiers_rejected == {"phone": 1}
    phones = melt_identifiers(batch.rows).query("kind == 'phone'")
    assert phones.groupby("value")["account_id"].nunique().max() == 2  # still links a and b
    summary = IngestSummary()
    summary.add(batch)
    assert summary.as_rows()[0]["identifiers_unvalidated"] == "phone 2"


# ---------------------------------------------------------------- whole-file failures


def test_missing_required_column_names_file_column_and_schema(tmp_path):
    path = write_csv(tmp_path / "signups.csv", ["account_id", "email"], [["a", "x@y.example"]])
    with pytest.raises(ContractError) as info:
        read_records("signups", path)
    message = str(info.value)
    assert str(path) in message
    assert "'created_at'" in message
    assert "account_id, created_at (required)" in message
    assert "email, phone, ip" in message  # optional columns of the schema are listed too


def test_missing_required_column_in_any_file_fails_before_loading(tmp_path):
    write_csv(tmp_path / "a.csv", ["account_id", "created_at"], [["a", "2024-03-01"]])
    write_csv(tmp_path / "b.csv", ["account_id"], [["b"]])
    with pytest.raises(ContractError, match="b.csv.*created_at"):
        read_records("signups", tmp_path)  # raises at call time: nothing was yielded


def test_missing_declared_identifier_column(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at"], [["a", "2024-03-01"]])
    with pytest.raises(ContractError, match="declared identifier column 'address'"):
        read_records("signups", path, extra_identifiers=("Address",))


def test_extra_identifier_may_not_shadow_builtin(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at", "email"], [])
    with pytest.raises(ContractError, match="'email'"):
        read_records("signups", path, extra_identifiers=("email",))


@pytest.mark.parametrize(
    "name, content",
    [("s.csv.gz", b"this is not gzip at all"),
     ("s.parquet", b"PAR1 not really a parquet file"),
     ("s.jsonl.gz", b"\x1f\x8b\x08\x00garbage"),
     ("s.csv", b"")],
)
def test_unreadable_file_is_a_contract_error(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ContractError, match=name.replace(".", r"\.")):
        read_records("signups", tmp_path / name)


def test_json_array_is_not_json_lines(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps([{"account_id": "a", "created_at": "2024-03-01"}]))
    with pytest.raises(ContractError, match="s.json.*JSON Lines"):
        read_records("signups", tmp_path / "s.json")


def test_unknown_extension(tmp_path):
    (tmp_path / "s.xlsx").write_text("account_id,created_at\n")
    with pytest.raises(ContractError, match=r"s\.xlsx.*expected \.csv"):
        read_records("signups", tmp_path / "s.xlsx")


def test_empty_dir_missing_path_and_unmatched_glob(tmp_path):
    (tmp_path / "notes.txt").write_text("unsupported files are not inputs")
    with pytest.raises(ContractError, match="directory holds no"):
        read_records("signups", tmp_path)
    with pytest.raises(ContractError, match="no such file"):
        read_records("signups", tmp_path / "nope.csv")
    with pytest.raises(ContractError, match="no files match"):
        read_records("signups", str(tmp_path / "*.csv"))


def test_unknown_kind_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown record kind"):
        read_records("orders", tmp_path)


# ---------------------------------------------------------------- formats and paths

FORMAT_ROWS = [
    {"account_id": "007", "created_at": "2024-03-01T12:00:00Z", "email": "A.B+x@gmail.com",
     "phone": "020 7946 0958", "ip": "203.0.113.7", "device_id": "000123", "country": "gb",
     "plan": "pro"},
    {"account_id": "008", "created_at": "2024-03-02T08:30:00+01:00", "email": "",
     "phone": "", "ip": "2001:db8::1", "device_id": "", "country": "", "plan": ""},
    {"account_id": "", "created_at": "2024-03-02", "email": "", "phone": "", "ip": "",
     "device_id": "", "country": "", "plan": ""},
]


def _write_all_formats(tmp_path: Path) -> dict[str, Path]:
    frame = pd.DataFrame(FORMAT_ROWS)
    paths = {}
    paths["csv"] = tmp_path / "s.csv"
    frame.to_csv(paths["csv"], index=False)
    paths["csv.gz"] = tmp_path / "s.csv.gz"
    frame.to_csv(paths["csv.gz"], index=False, compression="gzip")
    paths["parquet"] = tmp_path / "s.parquet"
    frame.to_parquet(paths["parquet"], index=False)
    paths["parquet.gz"] = tmp_path / "s.parquet.gz"
    paths["parquet.gz"].write_bytes(gzip.compress(paths["parquet"].read_bytes()))
    for ext, opener in (("jsonl", open), ("ndjson", open), ("json", open), ("jsonl.gz", gzip.open)):
        paths[ext] = write_jsonl(tmp_path / f"s.{ext}", FORMAT_ROWS, opener)
    return paths


def test_all_formats_read_the_same_rows(tmp_path):
    results = {}
    for fmt, path in _write_all_formats(tmp_path).items():
        rows, quarantine, _ = read_all("signups", path)
        results[fmt] = (rows, quarantine[["row", "column", "reason"]])
    expected_rows, expected_quarantine = results.pop("csv")
    assert expected_rows["account_id"].tolist() == ["007", "008"]
    assert expected_rows["phone"].iloc[0] == "+442079460958"  # region from the row's country
    assert expected_rows["created_at"].iloc[1] == pd.Timestamp("2024-03-02 07:30:00")
    for fmt, (rows, quarantine) in results.items():
        pd.testing.assert_frame_equal(rows, expected_rows, obj=fmt)
        # CSV counts the header as line 1; JSON Lines and Parquet count records from 1.
        assert quarantine["row"].tolist() == [4 if fmt.startswith("csv") else 3], fmt
        assert quarantine["reason"].tolist() == ["account_id is missing"], fmt
    assert expected_quarantine["row"].tolist() == [4]


def test_parquet_timestamps_and_numbers(tmp_path):
    frame = pd.DataFrame({
        "account_id": ["a", "b", "c"],
        "ts": pd.to_datetime(["2024-03-01 12:00", "2024-03-01 13:00", None]).tz_localize(
            "Europe/Berlin"),
        "input_tokens": pd.array([5, None, 7], dtype="Int64"),
        "requests": [1.0, 2.0, 3.0],
    })
    frame.to_parquet(tmp_path / "u.parquet", index=False)
    rows, quarantine, _ = read_all("usage", tmp_path / "u.parquet")
    assert rows["ts"].tolist() == [pd.Timestamp("2024-03-01 11:00"),
                                   pd.Timestamp("2024-03-01 12:00")]
    assert rows["input_tokens"].tolist() == [5, 0]
    assert rows["requests"].tolist() == [1, 2]
    assert quarantine[["row", "reason"]].values.tolist() == [[3, "ts is missing"]]


def test_directory_and_glob_paths_read_files_in_order(tmp_path):
    header = ["account_id", "created_at"]
    write_csv(tmp_path / "b.csv", header, [["b1", "2024-03-01"]])
    write_csv(tmp_path / "a.csv", header, [["a1", "2024-03-01"], ["a2", "2024-03-01"]])
    write_jsonl(tmp_path / "c.jsonl", [{"account_id": "c1", "created_at": "2024-03-01"}])
    (tmp_path / "README.txt").write_text("ignored in a directory")
    rows, _, batches = read_all("signups", tmp_path)
    assert rows["account_id"].tolist() == ["a1", "a2", "b1", "c1"]
    assert [Path(b.source).name for b in batches] == ["a.csv", "b.csv", "c.jsonl"]
    rows, _, batches = read_all("signups", str(tmp_path / "*.csv"))
    assert rows["account_id"].tolist() == ["a1", "a2", "b1"]


def test_leading_zeros_and_case_insensitive_columns(tmp_path):
    path = write_csv(tmp_path / "s.csv",
                     [" Account_ID ", "CREATED_AT", "Device_Id", "Org_ID", "ZIP"],
                     [["000042", "2024-03-01", "0001", "00", "01234"]])
    rows, quarantine, _ = read_all("signups", path)
    assert quarantine.empty
    assert rows["account_id"].tolist() == ["000042"]
    assert rows["device_id"].tolist() == ["0001"]
    assert pd.isna(rows["org_id"].iloc[0])  # "00" is an all-zero placeholder
    assert json.loads(rows["attributes"].iloc[0]) == {"zip": "01234"}


def test_columns_differing_only_in_case_are_rejected(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at", "Email", "EMAIL"], [])
    with pytest.raises(ContractError, match="both mean 'email'"):
        read_records("signups", path)


def test_signups_output_columns_and_extra_identifiers(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at", "Address", "utm", "plan"],
                     [["a", "2024-03-01", "  1  Main St ", "ads", "pro"],
                      ["b", "2024-03-01", "unknown", "", ""]])
    rows, _, _ = read_all("signups", path, extra_identifiers=("address",))
    assert list(rows.columns) == list(OUTPUT_COLUMNS["signups"]) + ["address"]
    assert rows["address"].iloc[0] == "1 Main St"
    assert pd.isna(rows["address"].iloc[1])
    assert rows["attributes"].iloc[0] == '{"plan":"pro","utm":"ads"}'  # sorted keys
    assert pd.isna(rows["attributes"].iloc[1])


# ---------------------------------------------------------------- row numbers


def test_rows_carry_source_and_line_numbers_across_chunks(tmp_path):
    body = [[f"a{i}", "2024-03-01" if i % 4 else "bad"] for i in range(1, 11)]
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at"], body)
    _, quarantine, batches = read_all("signups", path, chunk_rows=3)
    assert len(batches) == 4
    # a4 and a8 are bad: data row i sits on line i + 1
    assert quarantine["row"].tolist() == [5, 9]
    assert quarantine["value"].tolist() == ["bad", "bad"]
    assert set(quarantine["source"]) == {str(path)}


def test_malformed_csv_lines_are_quarantined_with_their_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("account_id,created_at\n"
                    "a1,2024-03-01\n"
                    "a2,2024-03-01,extra\n"
                    "\n"
                    "a3,yesterday\n"
                    "a4,2024-03-01\n")
    rows, quarantine, batches = read_all("signups", path, chunk_rows=2)
    assert rows["account_id"].tolist() == ["a1", "a4"]
    assert quarantine[["row", "reason"]].values.tolist() == [
        [3, "line has 3 fields but the header has 2"],
        [5, "created_at is not an ISO-8601 timestamp"],
    ]
    assert sum(b.rows_read for b in batches) == 4  # the blank line is not a record


def test_jsonl_line_numbers_and_broken_lines(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text('{"account_id": "a", "ts": "2024-03-01T00:00:00Z", "input_tokens": 5}\n'
                    "\n"
                    "{not json\n"
                    '["a", "list"]\n'
                    '{"account_id": "b", "ts": "2024-03-01T00:00:00Z", "requests": "x"}\n'
                    '{"account_id": "c", "ts": "2024-03-01T00:00:00Z", "input_tokens": 12.0}\n')
    rows, quarantine, _ = read_all("usage", path, chunk_rows=2)
    assert rows["account_id"].tolist() == ["a", "c"]
    assert rows["input_tokens"].tolist() == [5, 12]
    assert quarantine[["row", "reason"]].values.tolist() == [
        [3, "line is not valid JSON"], [4, "line is not a JSON object"],
        [5, "requests is not a whole number"]]


def test_empty_files_yield_an_empty_batch(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at"], [])
    batches = list(read_records("signups", path))
    assert len(batches) == 1 and batches[0].rows_read == 0
    assert list(batches[0].rows.columns) == list(OUTPUT_COLUMNS["signups"])


# ---------------------------------------------------------------- duplicates and summary


def test_duplicates_within_one_call(tmp_path):
    header = ["account_id", "created_at", "email"]
    write_csv(tmp_path / "a.csv", header, [
        ["a", "2024-03-01", "x@acme.example"],
        ["b", "2024-03-01", ""],
        ["a", "2024-03-01T00:00:00Z", "X@ACME.example"],  # same after normalising
        ["c", "2024-03-01", ""],
    ])
    write_csv(tmp_path / "b.csv", header, [
        ["b", "2024-03-01", ""],  # identical to a.csv line 3, in another file
        ["a", "2024-03-02", "x@acme.example"],  # differs from the first a
        ["d", "2024-03-01", ""],
        ["d", "2024-03-01", "d@acme.example"],
    ])
    rows, quarantine, batches = read_all("signups", tmp_path, chunk_rows=2)
    assert rows["account_id"].tolist() == ["a", "b", "c", "d"]
    assert sum(b.duplicates for b in batches) == 2
    first_a = f"{tmp_path / 'a.csv'}:2"
    first_d = f"{tmp_path / 'b.csv'}:4"
    assert quarantine[["source", "row", "value", "reason"]].values.tolist() == [
        [str(tmp_path / "b.csv"), 3, "a",
         f"duplicate account_id with different values (first occurrence kept: {first_a})"],
        [str(tmp_path / "b.csv"), 5, "d",
         f"duplicate account_id with different values (first occurrence kept: {first_d})"],
    ]


def test_usage_rows_are_never_duplicates(tmp_path):
    row = ["a", "2024-03-01T00:00:00", "5"]
    path = write_csv(tmp_path / "u.csv", ["account_id", "ts", "input_tokens"], [row, row])
    rows, _, batches = read_all("usage", path)
    assert len(rows) == 2 and batches[0].duplicates == 0


def test_summary_accounting(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at"],
                     [["a", "2024-03-01"], ["a", "2024-03-01"], ["", "2024-03-01"], ["b", "x"]])
    summary = IngestSummary()
    for batch in read_records("signups", path):
        summary.add(batch)
        with pytest.raises(CountMismatchError, match="read 4"):
            summary.check()  # nothing recorded as loaded yet
        summary.record_loaded(batch.kind, batch.source, len(batch.rows) - 1, duplicates=1)
    summary.check()
    (row,) = summary.as_rows()
    assert row == {"kind": "signups", "source": str(path), "rows_read": 4, "rows_loaded": 0,
                   "rows_quarantined": 2, "duplicates": 2, "identifiers_rejected": "", "identifiers_unvalidated": ""}
    assert summary.totals("signups").rows_read == 4


def test_melt_identifiers(tmp_path):
    path = write_csv(tmp_path / "s.csv",
                     ["account_id", "created_at", "email", "ip", "device_id", "payment_id",
                      "org_id", "address"],
                     [["a", "2024-03-01", "x.y@gmail.com", "203.0.113.7", "d1", "", "o1", "1 Main"],
                      ["b", "2024-03-01", "", "null", "d1", "p9", "", ""]])
    rows, _, _ = read_all("signups", path, extra_identifiers=("address",))
    melted = melt_identifiers(rows, extra_identifiers=("address",))
    assert list(melted.columns) == ["account_id", "kind", "value"]
    got = set(map(tuple, melted.values.tolist()))
    assert got == {
        ("a", "email", "xy@gmail.com"), ("a", "email_domain", "gmail.com"),
        ("a", "ip", "203.0.113.7"), ("a", "ip_net", "203.0.113.0/24"), ("a", "device", "d1"),
        ("a", "org", "o1"), ("a", "custom:address", "1 Main"),
        ("b", "device", "d1"), ("b", "payment", "p9"),
    }
    assert len(melt_identifiers(pd.concat([rows, rows]), ("address",))) == len(melted)
    with pytest.raises(ContractError, match="zip"):
        melt_identifiers(rows, extra_identifiers=("zip",))


def test_a_declared_identifier_carries_its_sharing_class(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["account_id", "created_at", "ssn_hash", "address"],
                     [["a", "2024-03-01", "h1", "1 Main"], ["b", "2024-03-01", "h1", "1 Main"]])
    declared = ("SSN_hash:personal", "address:household")
    rows, _, _ = read_all("signups", path, extra_identifiers=declared)
    kinds = set(melt_identifiers(rows, extra_identifiers=declared)["kind"])
    assert {"custom:personal:ssn_hash", "custom:address"} <= kinds  # household is the default class
    with pytest.raises(ContractError, match="unknown sharing class 'secret'"):
        list(read_records("signups", path, extra_identifiers=("ssn_hash:secret",)))


# ---------------------------------------------------------------- property

_good_signup = st.fixed_dictionaries({
    "account_id": st.text(alphabet="abc0123", min_size=1, max_size=3),
    "created_at": st.sampled_from(["2024-03-01", "2024-03-01T10:00:00Z",
                                   "2021-07-04 08:00:00+02:00"]),
    "email": st.sampled_from(["", "a@acme.example", "A.B@gmail.com", "bad", "test@test.com"]),
    "phone": st.sampled_from(["", "+14155550123", "020 7946 0958", "12"]),
    "ip": st.sampled_from(["", "203.0.113.7", "::1", "999.0.0.1"]),
    "country": st.sampled_from(["", "US", "gb", "XX"]),
})
_bad_signup_value = st.one_of(
    st.fixed_dictionaries({"account_id": st.sampled_from(["", " ", "null", "unknown"])}),
    st.fixed_dictionaries({"created_at": st.sampled_from(["", "soon", "1970-01-01", "3000-01-01",
                                                         "2024-13-01"])}),
)
_good_usage = st.fixed_dictionaries({
    "account_id": st.text(alphabet="abc0123", min_size=1, max_size=3),
    "ts": st.sampled_from(["2024-03-01T00:00:00", "2024-03-01T00:00:00-07:00"]),
    "input_tokens": st.one_of(st.just(""), st.integers(0, 10_000_000).map(str)),
    "output_tokens": st.one_of(st.just(""), st.integers(0, 50).map(str)),
    "requests": st.one_of(st.just(""), st.integers(0, 1_000_000).map(str)),
    "ip": st.sampled_from(["", "203.0.113.7", "0.0.0.0"]),
})
_bad_usage_value = st.one_of(
    st.fixed_dictionaries({"account_id": st.sampled_from(["", "N/A"])}),
    st.fixed_dictionaries({"ts": st.sampled_from(["", "today", "1999-01-01"])}),
    st.fixed_dictionaries({"input_tokens": st.sampled_from(["-1", "1.5", "x", "10000001"])}),
    st.fixed_dictionaries({"requests": st.sampled_from(["-3", "1000001", "1e400", "nan"])}),
)


def _rows(good, bad):
    return st.lists(st.tuples(good, st.one_of(st.none(), bad)), max_size=25).map(
        lambda pairs: [{**g, **(b or {})} for g, b in pairs])


@settings(max_examples=60, deadline=None)
@given(signups=_rows(_good_signup, _bad_signup_value), usage=_rows(_good_usage, _bad_usage_value),
       chunk_rows=st.integers(1, 10), fmt=st.sampled_from(["csv", "jsonl"]))
def test_accounting_holds_and_types_survive(signups, usage, chunk_rows, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        for kind, records, header in (("signups", signups, list(_good_signup_keys())),
                                      ("usage", usage, list(_good_usage_keys()))):
            path = Path(tmp) / f"{kind}.{fmt}"
            if fmt == "csv":
                write_csv(path, header, [[r[c] for c in header] for r in records])
            else:
                write_jsonl(path, records)
            summary = IngestSummary()
            kept = []
            for batch in read_records(kind, path, chunk_rows=chunk_rows):
                summary.add(batch)
                summary.record_loaded(kind, batch.source, len(batch.rows))
                kept.append(batch.rows)
            summary.check()
            total = summary.totals(kind)
            assert total.rows_read == len(records)
            rows = pd.concat(kept, ignore_index=True)
            assert rows["account_id"].is_unique or kind == "usage"
            if kind == "signups":
                assert rows["created_at"].dtype == "datetime64[us]"
                assert rows["created_at"].notna().all()
            else:
                assert rows["ts"].dtype == "datetime64[us]"
                for column in ("input_tokens", "output_tokens", "requests"):
                    assert str(rows[column].dtype) == "Int64"
                    assert rows[column].notna().all()
                    assert all(isinstance(v, (int, np.integer)) for v in rows[column])
                    assert (rows[column] >= 0).all()


def _good_signup_keys():
    return ["account_id", "created_at", "email", "phone", "ip", "country"]


def _good_usage_keys():
    return ["account_id", "ts", "input_tokens", "output_tokens", "requests", "ip"]
