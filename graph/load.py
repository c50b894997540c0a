"""Load validated records from the ingest stage into an engine, idempotently.

Signups are keyed by account id (the first stored version wins, later copies count as
duplicates). Usage rows have no natural key, so a file whose content was loaded before is
skipped as a whole and its rows are counted as duplicates; new files add to the store.
"""

from __future__ import annotations

import hashlib
import logging
from itertools import groupby
from pathlib import Path

import pandas as pd

from ringwatch.ingest.identifiers import melt_identifiers
from ringwatch.ingest.normalise import is_free_email_domain
from ringwatch.ingest.reader import IngestSummary, read_records

from .engines import Engine
from .casework.exports import write_csv

log = logging.getLogger(__name__)


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def linkable_identifiers(signups: pd.DataFrame, extra_identifiers=()) -> pd.DataFrame:
    """Identifiers that may link accounts: free email domains (gmail.com, ...) never do."""
    ids = melt_identifiers(signups, extra_identifiers)
    free = (ids["kind"] == "email_domain") & ids["value"].map(is_free_email_domain)
    return ids[~free].reset_index(drop=True)


def ingest(
    engine: Engine,
    *,
    signups=None,
    usage=None,
    labels=None,
    extra_identifiers=(),
    chunk_rows: int = 200_000,
    on_batch=None,
    quarantine_path=None,
) -> IngestSummary:
    """Read, validate and load the given paths; returns the run summary (counts add up).

    Each input file is one unit of work: a file that fails midway leaves nothing behind.
    Quarantined rows are kept in the store and, when ``quarantine_path`` is given, written
    there as CSV (source, row, column, value, reason), replacing an earlier file.
    """
    summary = IngestSummary()
    rejected: list[pd.DataFrame] = []
    for kind, path in (("signups", signups), ("usage", usage), ("labels", labels)):
        if path is None:
            continue
        batches = read_records(kind, path, extra_identifiers=extra_identifiers, chunk_rows=chunk_rows)
        # A file's batches come one after another, so grouping by source walks the files in turn.
        for source, file_batches in groupby(batches, key=lambda b: b.source):
            digest = file_digest(source)
            if engine.seen_file(kind, digest):
                _count_seen(summary, kind, file_batches, on_batch)
                continue
            with engine.transaction():
                rows = 0
                for batch in file_batches:
                    summary.add(batch)
                    engine.record_quarantine(batch.quarantine)
                    if len(batch.quarantine):
                        rejected.append(batch.quarantine)
                    result = _load(engine, kind, batch.rows, extra_identifiers)
                    summary.record_loaded(kind, batch.source, result.loaded, duplicates=result.duplicates)
                    rows += batch.rows_read
                    if on_batch:
                        on_batch(batch)
                engine.record_file(kind, digest, source, rows)
    summary.check()
    if quarantine_path is not None:
        _write_quarantine(rejected, quarantine_path)
    return summary


def _count_seen(summary: IngestSummary, kind: str, batches, on_batch) -> None:
    """The same content was loaded before: its rows, good or bad, are duplicates."""
    for batch in batches:
        summary.add(batch)
        summary.record_loaded(kind, batch.source, 0, duplicates=len(batch.rows))
        if on_batch:
            on_batch(batch)


def _write_quarantine(frames: list[pd.DataFrame], path) -> None:
    path = Path(path)
    if not frames:
        path.unlink(missing_ok=True)
        return
    write_csv(pd.concat(frames, ignore_index=True)[["source", "row", "column", "value", "reason"]], path)


def _load(engine: Engine, kind: str, rows: pd.DataFrame, extra_identifiers):
    if kind == "signups":
        return engine.load_accounts(rows, linkable_identifiers(rows, extra_identifiers))
    if kind == "usage":
        return engine.load_usage(rows)
    return engine.load_labels(rows)
