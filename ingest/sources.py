"""Finding input files and streaming them in chunks of raw string rows.

A path may be a file, a directory (its supported files, sorted; not recursive, hidden
files skipped) or a glob.
Formats go by extension: .csv, .parquet, .jsonl/.ndjson and .json holding JSON Lines, each
optionally gzip-compressed (.gz). The reader opens every file with `open_source` (header
or schema read, columns checked) before any row is read, so an unreadable file fails the
run before anything loads; damage found later in a file (a truncated gzip) raises
ContractError when reached.

Text is read as UTF-8 (a byte-order mark is ignored); undecodable bytes become U+FFFD
rather than stopping the run. Every value is read as a string (leading zeros kept);
Parquet timestamps stay timestamps. Rows keep their place in the file: CSV rows are
numbered like lines with the header as line 1 (so the first data row is 2; a quoted field
spanning lines counts as one), JSON Lines rows by their 1-based line (blank lines count
but are not records), Parquet rows by their 1-based index.
"""

from __future__ import annotations

import glob
import gzip
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import ContractError

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl"}
DEFAULT_CHUNK_ROWS = 200_000
ERROR_COLUMNS = ("row", "column", "value", "reason")
# How many JSON Lines records are scanned for column names before loading starts; a
# record further down that lacks a required key is quarantined, not fatal.
JSONL_HEADER_SCAN = 1000
_GLOB_CHARS = re.compile(r"[*?\[]")
_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
# Errors that mean "the bytes are not what the extension promised".
_READ_ERRORS = (OSError, EOFError, zlib.error, ValueError, UnicodeError, pa.ArrowException,
                pd.errors.ParserError)


@dataclass(frozen=True)
class SourceFile:
    """One input file, opened and checked: its format and normalised column names."""

    path: Path
    format: str
    compressed: bool
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        """The path as given, used as the `source` of every row."""
        return str(self.path)


@dataclass
class RawChunk:
    """Up to chunk_rows rows of one file, all values still raw."""

    source: str
    frame: pd.DataFrame  # normalised column names; str values (Parquet timestamps kept)
    rows: np.ndarray  # line/row number of each frame row in its file
    errors: pd.DataFrame  # records that could not be parsed at all: ERROR_COLUMNS

    @classmethod
    def empty(cls, source: SourceFile) -> RawChunk:
        """A chunk with no rows, for a file that holds none."""
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in source.columns})
        return cls(source.name, frame, np.empty(0, dtype=np.int64), _errors_frame([]))

    @property
    def rows_read(self) -> int:
        """Records read from the file, parsed or not."""
        return len(self.frame) + len(self.errors)


def normalise_column_name(name: object, position: int) -> str:
    """Lower-cased, stripped column name; a blank header becomes unnamed_<position>."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return text or f"unnamed_{position}"


def _split_extension(path: Path) -> tuple[str | None, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    return FORMATS.get(os.path.splitext(name)[1]), compressed


def _unsupported(path: Path) -> ContractError:
    return ContractError(
        f"{path}: unsupported file type; expected .csv, .parquet, .jsonl, .ndjson or "
        ".json (JSON Lines), optionally .gz"
    )


def find_files(path: str | os.PathLike) -> list[Path]:
    """Expand a file, directory or glob into the sorted list of input files."""
    text = os.fspath(path)
    target = Path(text)
    if target.is_dir():
        files = sorted(
            p for p in target.iterdir()
            if p.is_file() and not p.name.startswith(".") and _split_extension(p)[0]
        )
        if not files:
            raise ContractError(
                f"{target}: directory holds no .csv, .parquet, .jsonl, .ndjson or .json files"
            )
        return files
    if target.is_file():
        files = [target]
    elif _GLOB_CHARS.search(text):
        files = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        if not files:
            raise ContractError(f"{text}: no files match this pattern")
    else:
        raise ContractError(f"{text}: no such file or directory")
    for file in files:
        if _split_extension(file)[0] is None:
            raise _unsupported(file)
    return files


def _column_tuple(path: Path, raw_names: list[object]) -> tuple[str, ...]:
    names = [normalise_column_name(n, i) for i, n in enumerate(raw_names, start=1)]
    seen: dict[str, object] = {}
    for raw, name in zip(raw_names, names):
        if name in seen:
            raise ContractError(
                f"{path}: columns {seen[name]!r} and {raw!r} both mean {name!r} "
                "(column names are matched case-insensitively)"
            )
        seen[name] = raw
    return tuple(names)


def open_source(path: Path) -> SourceFile:
    """Open `path`, read its header or schema, and fail with ContractError if unreadable."""
    fmt, compressed = _split_extension(path)
    if fmt is None:
        raise _unsupported(path)
    try:
        if fmt == "csv":
            raw = _csv_header(path, compressed)
        elif fmt == "parquet":
            with _parquet_file(path, compressed) as pf:
                raw = list(pf.schema_arrow.names)
        else:
            raw = _jsonl_keys(path, compressed)
    except ContractError:
        raise
    except _READ_ERRORS as exc:
        raise ContractError(
            f"{path}: cannot be read as {_describe(fmt, compressed)}: {exc}"
        ) from exc
    return SourceFile(path, fmt, compressed, _column_tuple(path, raw))


def _describe(fmt: str, compressed: bool) -> str:
    label = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines"}[fmt]
    return f"gzip-compressed {label}" if compressed else label


def iter_chunks(source: SourceFile, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[RawChunk]:
    """Stream `source` in chunks of at most `chunk_rows` records."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    readers = {"csv": _csv_chunks, "parquet": _parquet_chunks, "jsonl": _jsonl_chunks}
    try:
        yield from readers[source.format](source, chunk_rows)
    except _READ_ERRORS as exc:
        raise ContractError(
            f"{source.path}: reading failed part-way through "
            f"({_describe(source.format, source.compressed)}): {exc}"
        ) from exc


def _errors_frame(records: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(ERROR_COLUMNS))
    frame["row"] = frame["row"].astype("int64")
    return frame


# ---------------------------------------------------------------------------- CSV

_CSV_OPTIONS = dict(dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                    encoding_errors="replace", skip_blank_lines=False)


def _csv_header(path: Path, compressed: bool) -> list[object]:
    try:
        head = pd.read_csv(path, header=None, nrows=1, compression="gzip" if compressed else None,
                           **_CSV_OPTIONS)
    except pd.errors.EmptyDataError:
        raise ContractError(f"{path}: file is empty; expected a CSV header line") from None
    return head.iloc[0].tolist()


def _csv_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    reader = pd.read_csv(
        source.path, header=0, names=list(source.columns), chunksize=chunk_rows,
        on_bad_lines="warn", compression="gzip" if source.compressed else None, **_CSV_OPTIONS,
    )
    skipped: set[int] = set()
    next_line = 2  # the header is line 1
    with reader:
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                chunk = next(reader, None)
            errors = _bad_lines(source, caught)
            skipped.update(e[0] for e in errors)
            if chunk is None:
                if errors:
                    yield RawChunk(source.name, pd.DataFrame(columns=list(source.columns)),
                                   np.empty(0, dtype=np.int64), _errors_frame(errors))
                return
            # Lines pandas skipped as malformed still take a number.
            window = np.arange(next_line, next_line + len(chunk) + len(skipped), dtype=np.int64)
            lines = window[~np.isin(window, list(skipped))][: len(chunk)]
            if len(lines):
                next_line = int(lines[-1]) + 1
                skipped = {s for s in skipped if s >= next_line}
            # A blank line is not a record, but it keeps its line number.
            blank = (chunk == "").all(axis=1).to_numpy()
            if blank.any():
                chunk, lines = chunk.loc[~blank], lines[~blank]
            yield RawChunk(source.name, chunk.reset_index(drop=True), lines, _errors_frame(errors))


def _bad_lines(source: SourceFile, caught: list) -> list[tuple[int, str, str, str]]:
    errors = []
    for warning in caught:
        for match in _BAD_LINE.finditer(str(warning.message)):
            line, expected, saw = (int(g) for g in match.groups())
            errors.append((line, "", "",
                           f"line has {saw} fields but the header has {expected}"))
        if not _BAD_LINE.search(str(warning.message)):
            log.warning("%s: %s", source.path, warning.message)
    return errors


# ---------------------------------------------------------------------------- Parquet


@contextmanager
def _parquet_file(path: Path, compressed: bool) -> Iterator[pq.ParquetFile]:
    if not compressed:
        with pq.ParquetFile(path) as pf:
            yield pf
        return
    # Parquet needs random access, so a .parquet.gz is inflated to a temporary file.
    with tempfile.TemporaryDirectory(prefix="ringwatch-") as tmp:
        plain = Path(tmp) / "data.parquet"
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        with pq.ParquetFile(plain) as pf:
            yield pf


def _arrow_to_text(column: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    """Timestamps stay timestamps (dates become midnight); everything else becomes text."""
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_date(kind):
        return pc.cast(column, pa.timestamp("us"))
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Nested, binary or other types with no text cast: keep them as JSON text.
        return pa.array(
            [None if v is None else json.dumps(v, default=str, sort_keys=True)
             for v in column.to_pylist()],
            type=pa.string(),
        )


def _parquet_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    start = 1
    with _parquet_file(source.path, source.compressed) as pf:
        for batch in pf.iter_batches(batch_size=chunk_rows):
            table = pa.table([_arrow_to_text(c) for c in batch.columns], names=list(source.columns))
            frame = table.to_pandas()
            rows = np.arange(start, start + len(frame), dtype=np.int64)
            start += len(frame)
            yield RawChunk(source.name, frame, rows, _errors_frame([]))


# ---------------------------------------------------------------------------- JSON Lines


def _open_text(path: Path, compressed: bool):
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return open(path, encoding="utf-8-sig", errors="replace")


def _jsonl_keys(path: Path, compressed: bool) -> list[object]:
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
            keys.update(dict.fromkeys(record))
    return list(keys)


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _jsonl_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    names: dict[str, str] = {}  # raw key -> normalised column name
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    errors: list[tuple[int, str, str, str]] = []

    def flush() -> RawChunk:
        frame = pd.DataFrame.from_records(records).astype("str") if records else pd.DataFrame()
        chunk = RawChunk(source.name, frame, np.asarray(lines, dtype=np.int64),
                         _errors_frame(errors))
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
                errors.append((number, "", text[:200], "line is not valid JSON"))
                record = None
            if record is not None and not isinstance(record, dict):
                errors.append((number, "", text[:200], "line is not a JSON object"))
            elif isinstance(record, dict):
                row: dict[str, str | None] = {}
                for key, value in record.items():
                    name = names.get(key)
                    if name is None:
                        name = names[key] = normalise_column_name(key, len(names) + 1)
                    if name in row:
                        errors.append((number, name, "", f"two keys mean the column {name!r}"))
                        break
                    row[name] = _json_text(value)
                else:
                    records.append(row)
                    lines.append(number)
            if len(records) + len(errors) >= chunk_rows:
                yield flush()
    if records or errors:
        yield flush()
