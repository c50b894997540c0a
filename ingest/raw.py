"""Raw rows as read from a file, before validation: the file, its chunks of text values, and
the records that could not be read at all.

Text is decoded as UTF-8 with the ``INVALID_TEXT`` error handler: each byte that is not
valid UTF-8 becomes the marker ``INVALID`` followed by the byte in two hex digits (no
backslash, so a JSON string stays valid JSON). A value is never silently turned into U+FFFD
(two different bad values would then read the same and link accounts); validation finds the
marker and quarantines the row, and the quarantine file shows the byte (``\\xe9dev``).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ERROR_COLUMNS = ("row", "column", "value", "reason")
# A Unicode noncharacter: never part of interchanged text, so it can mark undecodable bytes.
INVALID = "\ufdd0"
INVALID_TEXT = "ringwatch-mark-invalid"
_MARKED_BYTE = re.compile(INVALID + "([0-9a-f]{2})")
# Longest raw value copied into a quarantine row; enough to recognise it.
MAX_ERROR_VALUE = 200


def _mark_invalid(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "".join(f"{INVALID}{byte:02x}" for byte in bad), error.end


codecs.register_error(INVALID_TEXT, _mark_invalid)


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
        return cls(source.name, frame, np.empty(0, dtype=np.int64), errors_frame([]))

    @property
    def rows_read(self) -> int:
        """Records read from the file, parsed or not."""
        return len(self.frame) + len(self.errors)


def errors_frame(records: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    """Records that could not be read, as (row, column, value, reason) rows."""
    frame = pd.DataFrame(records, columns=list(ERROR_COLUMNS))
    frame["row"] = frame["row"].astype("int64")
    return frame


def normalise_column_name(name: object, position: int) -> str:
    """Lower-cased, stripped column name; a blank header becomes unnamed_<position>."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return text or f"unnamed_{position}"


def shown_text(value: str) -> str:
    """A raw value as a quarantine row shows it: undecodable bytes and control characters as ``\\xNN``."""
    return _MARKED_BYTE.sub(r"\\x\1", value).translate(_CONTROL_ESCAPES)[:MAX_ERROR_VALUE]


def invalid_text_reason(column: str, line: int) -> str:
    """Why a value holding bytes that are not UTF-8 was quarantined (line and column named)."""
    return f"{column} is not valid UTF-8 text (line {line})"


# C0 controls other than tab, newline and carriage return, DEL and the C1 controls.
CONTROL_CHARACTERS = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in CONTROL_CHARACTERS}
_CONTROL_SET = frozenset(CONTROL_CHARACTERS)
# Text that must never be read as a value: a control character or a byte that was not UTF-8.
_BAD_TEXT = "[" + "".join(map(chr, CONTROL_CHARACTERS)) + INVALID + "]"
# The bytes that start every such character in UTF-8 (0xC2 starts U+0080-U+00BF, 0xEF the
# marker): a column holding none of them needs no closer look.
_SUSPECT_BYTES = np.zeros(256, dtype=bool)
_SUSPECT_BYTES[[c for c in CONTROL_CHARACTERS if c < 0x80] + [0xC2, 0xEF]] = True


def _suspect(values: pd.Series) -> bool:
    """Whether a text column may hold a control character or an undecodable byte (a scan of its bytes)."""
    array = pa.array(values, from_pandas=True)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        data = chunk.buffers()[2]
        if not len(chunk) or data is None:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1]
        text = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]
        if not text.size or (text.min() >= 0x20 and text.max() < 0x7F):
            continue  # printable ASCII only, the common case
        if _SUSPECT_BYTES[text].any():
            return True
    return False


def bad_text(values: pd.Series) -> np.ndarray:
    """Per row, whether the text holds a control character or bytes that were not UTF-8.

    Vectorised: a scan of the column's bytes finds the columns worth a regular expression.
    """
    if not _suspect(values):
        return np.zeros(len(values), dtype=bool)
    return values.astype("str").str.contains(_BAD_TEXT, regex=True, na=False).to_numpy(dtype=bool)


def bad_text_reason(column: str, value: str, line: int) -> str:
    """Why a value that ``bad_text`` found was quarantined (line and column named)."""
    if INVALID in value:
        return invalid_text_reason(column, line)
    code = next(ord(c) for c in value if ord(c) in _CONTROL_SET)
    return f"{column} holds the control character U+{code:04X} (line {line})"
