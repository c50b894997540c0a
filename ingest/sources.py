"""Finding input files and streaming them in chunks of raw string rows.

A path may be a file, a directory (its supported files, sorted; not recursive, hidden
files skipped) or a glob.
Formats go by extension: .csv, .parquet, .jsonl/.ndjson and .json holding JSON Lines, each
optionally gzip-compressed (.gz). The reader opens every file with `open_source` (header
or schema read, columns checked) before any row is read, so an unreadable file fails the
run before anything loads; damage found later in a file (a truncated gzip) raises
ContractError when reached.

Text is read as UTF-8 (a byte-order mark is ignored); bytes that are not UTF-8 are marked,
never replaced, and their rows quarantined (``raw``). Every value is read as a string
(leading zeros kept); Parquet timestamps stay timestamps. Rows keep their place in the
file: CSV records are numbered by the line they start on, the header being line 1 (so the
first data row is 2; ``csv_format``), JSON Lines rows by their 1-based line (blank lines
count but are not records), Parquet rows by their 1-based index. A value that is not a
single value (a JSON object or array, a nested Parquet value) quarantines its row.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .csv_format import csv_chunks, csv_header
from .errors import ContractError
from .jsonl_format import jsonl_chunks, jsonl_keys
from .raw import (
    INVALID_TEXT,
    RawChunk,
    SourceFile,
    errors_frame,
    normalise_column_name,
    shown_text,
)

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl"}
DEFAULT_CHUNK_ROWS = 200_000
_GLOB_CHARS = re.compile(r"[*?\[]")
# Errors that mean "the bytes are not what the extension promised".
_READ_ERRORS = (OSError, EOFError, zlib.error, ValueError, UnicodeError, pa.ArrowException,
                pd.errors.ParserError)


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
            raw = csv_header(path, compressed)
        elif fmt == "parquet":
            with parquet_file(path, compressed) as pf:
                raw = list(pf.schema_arrow.names)
        else:
            raw = jsonl_keys(path, compressed)
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
    readers = {"csv": csv_chunks, "parquet": _parquet_chunks, "jsonl": jsonl_chunks}
    try:
        yield from readers[source.format](source, chunk_rows)
    except _READ_ERRORS as exc:
        raise ContractError(
            f"{source.path}: reading failed part-way through "
            f"({_describe(source.format, source.compressed)}): {exc}"
        ) from exc


# ---------------------------------------------------------------------------- Parquet


@contextmanager
def parquet_file(path: Path, compressed: bool) -> Iterator[pq.ParquetFile]:
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
    """Timestamps stay timestamps (dates become midnight); everything else becomes text.

    Bytes are read as UTF-8 with undecodable bytes marked (``raw``), and so is a text column
    holding bytes that are not UTF-8 (a writer that did not check); a nested value becomes
    its JSON text, which only its quarantine row shows.
    """
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            column.validate(full=True)
            return column
        except pa.ArrowInvalid:
            column, kind = column.cast(pa.binary()), pa.binary()
    if pa.types.is_timestamp(kind):
        return column
    if pa.types.is_date(kind):
        return pc.cast(column, pa.timestamp("us"))
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        return pa.array([None if v is None else v.decode("utf-8", INVALID_TEXT) for v in column.to_pylist()],
                        type=pa.string())
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array(
            [None if v is None else json.dumps(v, default=str, sort_keys=True)
             for v in column.to_pylist()],
            type=pa.string(),
        )


def text_frame(columns, names) -> pd.DataFrame:
    """Arrow columns of a Parquet file as a raw chunk's frame (``_arrow_to_text``), under these names."""
    return pa.table([_arrow_to_text(c) for c in columns], names=list(names)).to_pandas()


def _parquet_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    start = 1
    with parquet_file(source.path, source.compressed) as pf:
        for batch in pf.iter_batches(batch_size=chunk_rows):
            nested = [name for name, c in zip(source.columns, batch.columns) if pa.types.is_nested(c.type)]
            frame = text_frame(batch.columns, source.columns)
            rows = np.arange(start, start + len(frame), dtype=np.int64)
            start += len(frame)
            frame, rows, errors = _without_nested(frame, rows, nested)
            yield RawChunk(source.name, frame, rows, errors)


def _without_nested(frame: pd.DataFrame, rows: np.ndarray, nested: list[str]):
    """Rows holding a list, struct or map value leave the frame as error rows naming the column."""
    bad = np.zeros(len(frame), dtype=bool)
    errors = []
    for name in nested:
        held = frame[name].notna().to_numpy() & ~bad
        errors += [(int(rows[i]), name, shown_text(str(frame[name].iat[i])),
                    f"{name} is a nested value (list, struct or map), not a single value (row {rows[i]})")
                   for i in np.flatnonzero(held)]
        bad |= held
    if not bad.any():
        return frame, rows, errors_frame([])
    return frame.loc[~bad].reset_index(drop=True), rows[~bad], errors_frame(errors)
