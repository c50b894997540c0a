"""CSV files: the header, chunks of records, and the scan of raw bytes that finds damaged quoting.

On its way to pandas, a file's bytes are scanned block by block for lines holding an odd
number of double quotes (numpy over each block). Only such a line can open a quoted field
that runs on to the next lines, so only those few lines are read one byte at a time, as
RFC 4180 reads a record. A quoted field that closes into a well-formed record with the
header's number of fields is a record spanning lines; one that is never closed, or that
closes into a malformed record, is an unbalanced quote. The line that opened it is kept
from pandas and quarantined, naming that line, and every other line loads.

A record is numbered by the line it starts on, the header being line 1, so a row's number
is where an editor shows it.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ContractError
from .raw import INVALID, INVALID_TEXT, RawChunk, SourceFile, errors_frame, shown_text

log = logging.getLogger(__name__)

CSV_OPTIONS = {"dtype": str, "keep_default_na": False, "na_filter": False, "encoding": "utf-8-sig",
               "encoding_errors": INVALID_TEXT, "skip_blank_lines": False}
SCAN_BLOCK = 1 << 24
# A quoted field running on past this many lines is taken for an unbalanced quote.
MAX_RECORD_LINES = 1000
_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
_QUOTE, _COMMA, _CR, _LF = 34, 44, 13, 10


def csv_header(path: Path, compressed: bool) -> list[object]:
    """The raw column names of a CSV file's first line."""
    try:
        head = pd.read_csv(path, header=None, nrows=1, compression="gzip" if compressed else None,
                           **CSV_OPTIONS)
    except pd.errors.EmptyDataError:
        raise ContractError(f"{path}: file is empty; expected a CSV header line") from None
    names = head.iloc[0].tolist()
    if any(INVALID in str(name) for name in names):
        raise ContractError(f"{path}: the header line is not valid UTF-8 text")
    return names


# ---------------------------------------------------------------------------- the quote scan


@dataclass
class _Line:
    number: int
    data: bytes
    quotes: int


@dataclass
class _Walk:
    """How far a strict (RFC 4180) reading of one record has got."""

    commas: int = 0  # field separators outside quotes
    quoted: bool = False
    closed: bool = False  # the last byte closed a quoted field
    start: bool = True  # at the start of a field
    opened: int = -1  # the field whose quote is open, counted from 0
    malformed: bool = False

    def read(self, data: bytes) -> None:
        for byte in data:
            if self.quoted:
                if byte == _QUOTE:
                    self.quoted, self.closed = False, True
                continue
            if self.closed:
                self.closed = False
                if byte == _QUOTE:  # a doubled quote inside the quoted field
                    self.quoted = True
                    continue
                if byte not in (_COMMA, _CR, _LF):
                    self.malformed = True
            if byte == _COMMA:
                self.commas += 1
                self.start = True
            elif byte == _QUOTE and self.start:
                self.quoted, self.opened, self.start = True, self.commas, False
            elif byte not in (_CR, _LF):
                self.start = False


@dataclass
class _QuoteScan:
    """Lines that continue a record begun earlier, lines that open an unbalanced quote, and the
    bytes to hand on (``out``): everything but the damaged lines, once each line is settled."""

    fields: int
    continued: list[int] = field(default_factory=list)
    damaged: list[tuple[_Line, int]] = field(default_factory=list)  # (line, field opened)
    out: list[bytes] = field(default_factory=list)
    _open: list[_Line] = field(default_factory=list)
    _walk: _Walk | None = None
    _opened: int = -1

    def feed(self, part: bytes, first_line: int) -> None:
        """Scan whole lines (``part`` ends at a line end, or at the end of the file)."""
        if not self._open and b'"' not in part:
            self.out.append(part)
            return
        data = np.frombuffer(part, dtype=np.uint8)
        ends = np.flatnonzero(data == _LF) + 1
        if not len(ends) or ends[-1] != len(part):
            ends = np.append(ends, len(part))
        starts = np.concatenate(([0], ends[:-1]))
        # A line's quote count is odd where the XOR of its quote flags is 1 (one pass, no per-quote work).
        odd = np.flatnonzero(np.bitwise_xor.reduceat((data == _QUOTE).view(np.uint8), starts))
        k = done = 0
        while k < len(ends):
            if not self._open:  # only a line with an odd number of quotes can open a field
                at = int(np.searchsorted(odd, k))
                if at == len(odd):
                    break
                k = int(odd[at])
            start, end = int(starts[k]), int(ends[k])
            if start > done:
                self.out.append(part[done:start])
            self._take(_Line(first_line + k, part[start:end], part.count(b'"', start, end)))
            done, k = end, k + 1
        if done < len(part):
            self.out.append(part[done:])

    def _take(self, first: _Line) -> None:
        queue = deque([first])
        while queue:
            line = queue.popleft()
            if not self._open:
                walk = _Walk()
                if line.number > 1 and line.quotes % 2:
                    walk.read(line.data)
                if walk.quoted:
                    self._open, self._walk, self._opened = [line], walk, walk.opened
                else:
                    self.out.append(line.data)
                continue
            self._open.append(line)
            walk = self._walk
            if line.quotes:  # inside a quoted field, a line without quotes changes nothing
                walk.read(line.data)
            if walk.malformed or walk.commas >= self.fields or len(self._open) > MAX_RECORD_LINES:
                queue.extendleft(reversed(self._drop_opener()))
            elif not walk.quoted:
                if walk.commas + 1 == self.fields:
                    self.continued.extend(other.number for other in self._open[1:])
                    self.out.extend(other.data for other in self._open)
                    self._open = []
                else:
                    queue.extendleft(reversed(self._drop_opener()))

    def _drop_opener(self) -> list[_Line]:
        """The open record's first line is damaged; the lines after it are read again on their own."""
        self.damaged.append((self._open[0], self._opened))
        rest, self._open = self._open[1:], []
        return rest

    def finish(self) -> None:
        """At the end of the file a field still open was never closed."""
        while self._open:
            for line in self._drop_opener():
                self._take(line)


class _ScannedStream(io.RawIOBase):
    """A CSV file's bytes as pandas reads them: scanned on the way through, less the damaged lines.

    Bytes go on as soon as their lines are settled; only the lines of a quoted field that is
    still open (at most ``MAX_RECORD_LINES``) wait, so the file is read and inflated once.
    """

    def __init__(self, handle, fields: int):
        super().__init__()
        self.scan = _QuoteScan(max(fields, 1))
        self._handle, self._carry, self._line, self._ended = handle, b"", 1, False
        self._pending: deque[bytes] = deque()
        self._chunk, self._at = memoryview(b""), 0
        self._reported = 0  # damaged lines already turned into quarantine rows

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at >= len(self._chunk):
            if self._pending:
                self._chunk, self._at = memoryview(self._pending.popleft()), 0
            elif self._ended:
                return 0
            else:
                self._fill()
        n = min(len(buffer), len(self._chunk) - self._at)
        buffer[:n] = self._chunk[self._at:self._at + n]
        self._at += n
        return n

    def _fill(self) -> None:
        block = self._handle.read(SCAN_BLOCK)
        data = self._carry + block if self._carry else block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if cut:
            self.scan.feed(data[:cut] if cut < len(data) else data, self._line)
            self._line += data.count(b"\n", 0, cut)
        self._carry = data[cut:]
        if not block:
            self.scan.finish()
            self._ended = True
        self._pending.extend(self.scan.out)
        self.scan.out = []

    def damaged_rows(self, columns: tuple[str, ...]) -> list[tuple[int, str, str, str]]:
        """Quarantine rows for the damaged lines found since last asked."""
        rows = []
        for bad, opened in self.scan.damaged[self._reported:]:
            column = columns[opened] if 0 <= opened < len(columns) else ""
            text = bad.data.decode("utf-8", INVALID_TEXT).rstrip("\r\n")
            reason = f"unbalanced quote in {column or 'a field'} (the quoted field opened on this line is never closed)"
            rows.append((bad.number, column, shown_text(text), reason))
        self._reported = len(self.scan.damaged)
        return rows

    def line_of(self, numbers) -> np.ndarray:
        """The file line of pandas' record numbers (the header being 1), past the lines pandas never sees
        as a record's start (continued records, damaged lines)."""
        numbers = np.asarray(numbers, dtype=np.int64)
        skipped = np.unique(np.array(self.scan.continued + [bad.number for bad, _ in self.scan.damaged],
                                     dtype=np.int64))
        if not len(skipped):
            return numbers
        # The n-th line not skipped lies after skipped line s_i exactly when n >= s_i - i.
        return numbers + np.searchsorted(skipped - np.arange(len(skipped)), numbers, side="right")


def _open_bytes(source: SourceFile):
    return gzip.open(source.path, "rb") if source.compressed else open(source.path, "rb")


# ---------------------------------------------------------------------------- chunks


def csv_chunks(source: SourceFile, chunk_rows: int) -> Iterator[RawChunk]:
    """Stream a CSV file in chunks of records numbered by the line they start on."""
    with _open_bytes(source) as handle, _ScannedStream(handle, len(source.columns)) as stream:
        reader = pd.read_csv(io.BufferedReader(stream, buffer_size=1 << 20), header=0, names=list(source.columns),
                             chunksize=chunk_rows, on_bad_lines="warn", **CSV_OPTIONS)
        skipped: set[int] = set()
        next_line = 2  # pandas' numbering: the header is record 1
        with reader:
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    chunk = next(reader, None)
                errors = _bad_lines(source, caught)
                skipped.update(e[0] for e in errors)
                errors = stream.damaged_rows(source.columns) \
                    + [(int(stream.line_of([e[0]])[0]), *e[1:]) for e in errors]
                if chunk is None:
                    if errors:
                        yield RawChunk(source.name, pd.DataFrame(columns=list(source.columns)),
                                       np.empty(0, dtype=np.int64), errors_frame(errors))
                    return
                # Lines pandas skipped as malformed still take a number.
                window = np.arange(next_line, next_line + len(chunk) + len(skipped), dtype=np.int64)
                lines = window[~np.isin(window, list(skipped))][: len(chunk)]
                if len(lines):
                    next_line = int(lines[-1]) + 1
                    skipped = {s for s in skipped if s >= next_line}
                lines = stream.line_of(lines)
                # A blank line is not a record, but it keeps its line number.
                blank = (chunk == "").all(axis=1).to_numpy()
                if blank.any():
                    chunk, lines = chunk.loc[~blank], lines[~blank]
                yield RawChunk(source.name, chunk.reset_index(drop=True), lines, errors_frame(errors))


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
