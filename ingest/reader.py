"""Public entry point of the ingest layer: read_records, Batch and IngestSummary.

    summary = IngestSummary()
    for batch in read_records("signups", "data/signups/", extra_identifiers=("address",)):
        summary.add(batch)
        loaded, already_stored = store.load(batch.rows)    # cross-run idempotency: the store
        summary.record_loaded(batch.kind, batch.source, loaded, duplicates=already_stored)
    summary.check()

Every file is opened and its columns checked when read_records is called, before any row
is read, so a file that cannot be read or lacks a required column fails the run before
anything loads (a caller loading several kinds calls read_records for each before reading
any). Duplicate account_ids (signups, labels) are detected within one call; the store
detects duplicates of earlier runs, and of usage rows by their request_id. Usage rows
without a request_id cannot be recognised when delivered twice, so ``UsageSpans`` reports
accounts whose usage in one file overlaps in time their usage in another.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from .errors import ContractError, CountMismatchError
from .identifiers import declared_columns
from .raw import RawChunk, SourceFile
from .schema import check_kind, describe_schema, required_columns
from .sources import DEFAULT_CHUNK_ROWS, find_files, iter_chunks, open_source
from .usage_sql import Scan, UsagePlan, rest_chunks, usage_plan
from .validate import DuplicateTracker, check_extra_identifiers, validate_chunk

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Normalised rows and quarantine rows from one chunk of one file.

    rows_read == len(rows) + len(quarantine) + duplicates always holds.
    """

    kind: str
    source: str
    rows: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    duplicates: int = 0
    identifiers_rejected: dict[str, int] = field(default_factory=dict)
    identifiers_unvalidated: dict[str, int] = field(default_factory=dict)
    # A usage file's clean rows, which the engine stores from the file itself (``usage_sql``):
    # ``rows_read`` counts them, ``rows`` is empty.
    clean: UsagePlan | None = None


def _check_columns(kind: str, source: SourceFile, extra: tuple[str, ...]) -> None:
    present = set(source.columns)
    if source.format == "jsonl" and not present:
        return  # an empty JSON Lines file has no records to check
    for column in required_columns(kind) + list(extra):
        if column not in present:
            what = "declared identifier column" if column in extra else "required column"
            raise ContractError(
                f"{source.path}: missing {what} {column!r}; {describe_schema(kind)}"
                + (f"; declared identifiers: {', '.join(extra)}" if extra else "")
                + f"; found: {', '.join(source.columns) or 'no columns'}"
            )


def read_records(kind: str, path: str | os.PathLike, *, extra_identifiers: Iterable[str] = (),
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, scan: Scan | None = None) -> Iterator[Batch]:
    """Read, validate and normalise `kind` records from a file, directory or glob.

    Raises ContractError at call time if any file is unreadable, of an unknown type, or
    lacks a required (or declared identifier) column. `extra_identifiers` name extra
    signups columns that link accounts like the built-in identifiers (``COLUMN`` or
    ``COLUMN:CLASS``, see ``identifiers.declared_identifier``); other kinds ignore them.
    At least one Batch is yielded per file, even an empty one. With ``scan`` (an engine's
    ``scan_files``), a usage file that qualifies (``usage_sql``) yields its rest rows, then
    one Batch of its clean rows for the engine to store (``Batch.clean``).
    """
    check_kind(kind)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    extra = check_extra_identifiers(declared_columns(extra_identifiers)) if kind == "signups" else ()
    sources = [open_source(p) for p in find_files(path)]
    for source in sources:
        _check_columns(kind, source, extra)
    return _batches(kind, sources, extra, chunk_rows, scan if kind == "usage" else None)


def _chunks(source: SourceFile, now: pd.Timestamp, scan: Scan | None,
            chunk_rows: int) -> tuple[Iterator[RawChunk], UsagePlan | None]:
    """The file's chunks to validate, and its plan when the engine stores its clean rows (else None)."""
    plan = None if scan is None else usage_plan(source, now)
    if plan is not None:
        rest = rest_chunks(plan, scan, chunk_rows)
        try:
            first = next(rest, None)
        except ContractError as exc:
            log.info("%s is read row by row: %s", source.path, exc)
        else:
            return itertools.chain([] if first is None else [first], rest), plan
    return iter_chunks(source, chunk_rows), None


def _batches(kind: str, sources: list[SourceFile], extra: tuple[str, ...],
             chunk_rows: int, scan: Scan | None) -> Iterator[Batch]:
    tracker, caches = DuplicateTracker(), {}
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    for source in sources:
        log.info("reading %s from %s", kind, source.path)
        chunks, plan = _chunks(source, now, scan, chunk_rows)
        yielded = False
        for chunk in chunks:
            result = validate_chunk(kind, chunk, extra_identifiers=extra, tracker=tracker,
                                    now=now, caches=caches)
            yielded = True
            yield Batch(kind, source.name, result.rows, result.quarantine, chunk.rows_read,
                        result.duplicates, result.identifiers_rejected, result.identifiers_unvalidated)
        if plan or not yielded:  # the clean rows the engine stores, or an empty file's one batch
            empty = validate_chunk(kind, RawChunk.empty(source), extra_identifiers=extra, now=now)
            yield Batch(kind, source.name, empty.rows, empty.quarantine, plan.clean_rows if plan else 0, clean=plan)


@dataclass
class SourceCounts:
    """Counts for one (kind, source file)."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates: int = 0
    identifiers_rejected: dict[str, int] = field(default_factory=dict)
    identifiers_unvalidated: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestSummary:
    """Run accounting per kind and source: read == loaded + quarantined + duplicates.

    ``usage_overlaps`` counts, per usage file, the accounts whose usage without request_id
    overlaps in time their usage in another file (``UsageSpans``); ``quarantine_file`` is
    the file this run's quarantined rows were written to, if any.
    """

    counts: dict[tuple[str, str], SourceCounts] = field(default_factory=dict)
    usage_overlaps: dict[str, int] = field(default_factory=dict)
    overlapping_accounts: int = 0
    quarantine_file: str | None = None

    def _entry(self, kind: str, source: str) -> SourceCounts:
        return self.counts.setdefault((kind, source), SourceCounts())

    def add(self, batch: Batch) -> None:
        """Count a batch as read (quarantine and in-call duplicates included)."""
        entry = self._entry(batch.kind, batch.source)
        entry.rows_read += batch.rows_read
        entry.rows_quarantined += len(batch.quarantine)
        entry.duplicates += batch.duplicates
        for column, n in batch.identifiers_rejected.items():
            entry.identifiers_rejected[column] = entry.identifiers_rejected.get(column, 0) + n
        for column, n in batch.identifiers_unvalidated.items():
            entry.identifiers_unvalidated[column] = entry.identifiers_unvalidated.get(column, 0) + n

    def record_loaded(self, kind: str, source: str, n: int, duplicates: int = 0) -> None:
        """Count `n` rows stored, and `duplicates` the store found from earlier runs."""
        entry = self._entry(kind, source)
        entry.rows_loaded += n
        entry.duplicates += duplicates

    def check(self) -> None:
        """Raise CountMismatchError where read != loaded + quarantined + duplicates."""
        wrong = [
            f"{kind} {source}: read {c.rows_read} != loaded {c.rows_loaded} + quarantined "
            f"{c.rows_quarantined} + duplicates {c.duplicates}"
            for (kind, source), c in self.counts.items()
            if c.rows_read != c.rows_loaded + c.rows_quarantined + c.duplicates
        ]
        if wrong:
            raise CountMismatchError("; ".join(wrong))

    def totals(self, kind: str) -> SourceCounts:
        """Counts of `kind` summed over its sources."""
        total = SourceCounts()
        for (k, _), c in self.counts.items():
            if k == kind:
                total.rows_read += c.rows_read
                total.rows_loaded += c.rows_loaded
                total.rows_quarantined += c.rows_quarantined
                total.duplicates += c.duplicates
                for column, n in c.identifiers_rejected.items():
                    total.identifiers_rejected[column] = (
                        total.identifiers_rejected.get(column, 0) + n)
                for column, n in c.identifiers_unvalidated.items():
                    total.identifiers_unvalidated[column] = (
                        total.identifiers_unvalidated.get(column, 0) + n)
        return total

    def as_rows(self) -> list[dict[str, object]]:
        """One dict per (kind, source), in reading order, for printing a table.

        identifiers_rejected and identifiers_unvalidated are rendered as text: "email 3, phone 1".
        """
        return [
            {
                "kind": kind,
                "source": source,
                "rows_read": c.rows_read,
                "rows_loaded": c.rows_loaded,
                "rows_quarantined": c.rows_quarantined,
                "duplicates": c.duplicates,
                "identifiers_rejected": ", ".join(
                    f"{col} {n}" for col, n in sorted(c.identifiers_rejected.items())),
                "identifiers_unvalidated": ", ".join(
                    f"{col} {n}" for col, n in sorted(c.identifiers_unvalidated.items())),
            }
            for (kind, source), c in self.counts.items()
        ]


STORED = "(stored before this run)"
_MERGE_FROM = 500_000  # a file's spans are merged once this many rows wait


def _spans(rows: pa.Table) -> pa.Table:
    """(account_id, first, last) per account of rows holding those columns."""
    grouped = rows.group_by("account_id").aggregate([("first", "min"), ("last", "max")])
    return grouped.rename_columns(["account_id", "first", "last"])


class UsageSpans:
    """When each account was active in each usage file, to find files that overlap in time.

    Usage rows without a request_id that arrive twice (a re-exported day, the same rows
    shuffled or compressed) would be counted twice; they cannot be told from new rows, but
    an account active over the same hours in two files is a sign of it. ``stored`` gives the
    store's usage span per account (account_id, first_ts, last_ts) or None; it is asked
    once, before this run's first usage row without a request_id is loaded.

    A file's spans are merged as its batches arrive, so what is held stays near one row per
    account and file, however many batches the file has.
    """

    def __init__(self, stored: Callable[[], pd.DataFrame | None]):
        self._stored, self._before = stored, None
        self._asked = False
        self._parts: dict[str, list[pa.Table]] = {}
        self._merged: dict[str, int] = {}  # rows in a file's spans when last merged
        self._held: dict[str, int] = {}

    def add(self, source: str, rows: pd.DataFrame) -> None:
        """Note the span of these normalised usage rows (call before they are stored)."""
        if "request_id" in rows:
            rows = rows[rows["request_id"].isna()]
        if rows.empty:
            return
        # Arrow groups a batch's rows several times faster than pandas does.
        self.add_spans(source, _spans(pa.table({
            "account_id": pa.array(rows["account_id"], type=pa.string(), from_pandas=True),
            "first": pa.array(rows["ts"], from_pandas=True), "last": pa.array(rows["ts"], from_pandas=True)})))

    def _stored_before(self) -> pd.DataFrame | None:
        """The store's spans before this run, asked once (before this run's first rows are stored)."""
        if not self._asked:
            self._before, self._asked = self._stored(), True
        return self._before

    def wanted(self, files: int) -> bool:
        """Whether spans can show an overlap in a run of this many usage files: with two or more,
        or with usage stored before the run (asked now, before this run's rows are stored)."""
        before = self._stored_before()
        return files > 1 or (before is not None and len(before) > 0)

    def add_spans(self, source: str, span: pa.Table | None) -> None:
        """Note spans (account_id, first, last) of usage rows without a request_id, already grouped."""
        if span is None or not len(span):
            return
        self._stored_before()
        span = span.cast(pa.schema([("account_id", pa.string()), ("first", pa.timestamp("us")),
                                    ("last", pa.timestamp("us"))]))
        self._parts.setdefault(source, []).append(span)
        self._held[source] = self._held.get(source, 0) + len(span)
        if self._held[source] > 2 * max(self._merged.get(source, 0), _MERGE_FROM):
            self._merge(source)

    def _merge(self, source: str) -> None:
        merged = _spans(pa.concat_tables(self._parts[source]))
        self._parts[source] = [merged]
        self._merged[source] = self._held[source] = len(merged)

    def overlaps(self) -> tuple[dict[str, int], int]:
        """Per file, the accounts whose span there overlaps their span in another file or in the
        store before this run; and how many accounts that is in all."""
        stored = self._before is not None and len(self._before) > 0
        if not self._parts or (len(self._parts) < 2 and not stored):
            return {}, 0
        frames = []
        for source in self._parts:
            self._merge(source)
            frames.append(self._parts[source][0].to_pandas().assign(source=source))
        spans = pd.concat(frames, ignore_index=True)
        if stored:
            before = self._before.rename(columns={"first_ts": "first", "last_ts": "last"})
            before = before.loc[before["account_id"].isin(spans["account_id"]), ["account_id", "first", "last"]]
            spans = pd.concat([spans, before.assign(source=STORED)], ignore_index=True)
        if spans["source"].nunique() < 2:
            return {}, 0
        spans = spans.astype({"first": "datetime64[us]", "last": "datetime64[us]"})
        spans = spans.sort_values(["account_id", "first", "last"], kind="stable").reset_index(drop=True)
        account = spans.groupby("account_id", sort=False)
        # Sorted by start, a span overlaps an earlier one when it starts before the latest
        # end so far, and a later one when the next span starts before it ends.
        latest_end = account["last"].cummax().groupby(spans["account_id"], sort=False).shift()
        next_start = account["first"].shift(-1)
        hit = ((spans["first"] <= latest_end) | (next_start <= spans["last"])).to_numpy() \
            & (spans["source"] != STORED).to_numpy()
        per_file = spans.loc[hit].groupby("source", sort=False).size()
        return {str(k): int(v) for k, v in per_file.items()}, int(spans.loc[hit, "account_id"].nunique())
