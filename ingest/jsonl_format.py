"""JSON Lines files: the keys of the first records, and chunks of records numbered by line.

A record is quarantined whole, naming its line and the field, when a field holds a JSON
object or array (a value must be a single string, number, boolean or null: nothing is turned
into text that could link accounts) or text that is not valid UTF-8.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ContractError
from .raw import (
    INVALID,
    INVALID_TEXT,
    RawChunk,
    SourceFile,
    errors_frame,
    invalid_text_reason,
    normalise_column_name,
    shown_text,
)

# How many JSON Lines records are scanned for column names before loading starts; a
# record further down that lacks a required key is quarantined, not fatal.
JSONL_HEADER_SCAN = 1000


def _open_text(path: Path, compressed: bool):
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8-sig", errors=INVALID_TEXT)
    return open(path, encoding="utf-8-sig", errors=INVALID_TEXT)


def jsonl_keys(path: Path, compressed: bool) -> list[object]:
    """The keys of the file's first records, in the order first seen."""
    keys: dict[str, None] = {}
    seen_record = False
    with _open_text(path, compressed) as handle:
        for scanned, line in enumerate(handle):
            if scanned >= JSONL_HEADER_SCAN:
                break
            text = line.strip()
            if not text:
                continue
            if not seen_record and text.startswith("["):
                raise ContractError(
                    f"{path}: is a JSON array, not JSON Lines; expected one JSON object per line"
                )
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                if not seen_record:
                    raise ContractError(
                        f"{path}: first record is not a JSON object; expected JSON Lines "
                        "(one JSON object per line)"
                    )
                continue
            seen_record = True
            keys.update(dict.fromkeys(k for k in record if INVALID not in k))
    return list(keys)


def _scalar_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _field_error(number: int, name: str, value: object, text: str) -> tuple[int, str, str, str] | None:
    """The quarantine row for a field that is not a single value or not UTF-8 text, else None."""
    if isinstance(value, (dict, list)):
        what = "a JSON object" if isinstance(value, dict) else "a JSON array"
        return (number, name, shown_text(json.dumps(value)),
                f"{name} is {what}, not a single value (line {number})")
    if INVALID in name or (isinstance(value, str) and INVALID in value):
        shown = shown_text(name)
        return number, shown, shown_text(value if isinstance(value, str) else text), \
            invalid_text_reason(shown, number)
    return None


def jsonl_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    """Stream a JSON Lines file in chunks of records, each numbered by its line."""
    names: dict[str, str] = {}  # raw key -> normalised column name
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    errors: list[tuple[int, str, str, str]] = []

    def flush() -> RawChunk:
        frame = pd.DataFrame.from_records(records).astype("str") if records else pd.DataFrame()
        chunk = RawChunk(source.name, frame, np.asarray(lines, dtype=np.int64),
                         errors_frame(errors))
        records.clear(), lines.clear(), errors.clear()
        return chunk

    with _open_text(source.path, source.compressed) as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except ValueError:
                errors.append((number, "", shown_text(text), "line is not valid JSON"))
                record = None
            if record is not None and not isinstance(record, dict):
                errors.append((number, "", shown_text(text), "line is not a JSON object"))
            elif isinstance(record, dict):
                row: dict[str, str | None] = {}
                for key, value in record.items():
                    name = names.get(key)
                    if name is None:
                        name = names[key] = normalise_column_name(key, len(names) + 1)
                    problem = _field_error(number, name, value, text)
                    if problem is None and name in row:
                        problem = (number, name, "", f"two keys mean the column {name!r}")
                    if problem is not None:
                        errors.append(problem)
                        break
                    row[name] = _scalar_text(value)
                else:
                    records.append(row)
                    lines.append(number)
            if len(records) + len(errors) >= chunk_rows:
                yield flush()
    if records or errors:
        yield flush()
