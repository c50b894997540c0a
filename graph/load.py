"""Load validated records from the ingest stage into an engine, idempotently.

Signups are keyed by account id (the first stored version wins, later copies count as
duplicates). Usage rows have no natural key, so a file whose content was loaded before is
skipped as a whole and its rows are counted as duplicates; new files add to the store.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd

from ringwatch.ingest.identifiers import melt_identifiers
from ringwatch.ingest.normalise import is_free_email_domain
from ringwatch.ingest.reader import IngestSummary, read_records

from .engines.base import Engine
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

    Quarantined rows are kept in the store and, when ``quarantine_path`` is given, written
    there as CSV (source, row, column, value, reason), replacing an earlier file.
    """
    summary = IngestSummary()
    rejected: list[pd.DataFrame] = []
    for kind, path in (("signups", signups), ("usage", usage), ("labels", labels)):
        if path is None:
            continue
        batches = read_records(kind, path, extra_identifiers=extra_identifiers, chunk_rows=chunk_rows)
        current: _File | None = None
        try:
            for batch in batches:
                summary.add(batch)
                if current is None or current.source != batch.source:
                    _finish(engine, kind, current)
                    current = _File(engine, kind, batch.source)
                if current.seen:
                    # The same content was loaded before: its rows, good or bad, are duplicates.
                    summary.record_loaded(kind, batch.source, 0, duplicates=len(batch.rows))
                else:
                    engine.record_quarantine(batch.quarantine)
                    if len(batch.quarantine):
                        rejected.append(batch.quarantine)
                    result = _load(engine, kind, batch.rows, extra_identifiers)
                    summary.record_loaded(kind, batch.source, result.loaded, duplicates=result.duplicates)
                    current.rows += batch.rows_read
                if on_batch:
                    on_batch(batch)
        except BaseException:
            if current is not None and not current.seen:
                engine.rollback()
            raise
        _finish(engine, kind, current)
    summary.check()
    if quarantine_path is not None:
        _write_quarantine(rejected, quarantine_path)
    return summary


class _File:
    """One input file being loaded: each file is one unit of work in the store."""

    def __init__(self, engine: Engine, kind: str, source: str):
        self.source, self.digest, self.rows = source, file_digest(source), 0
        self.seen = engine.seen_file(kind, self.digest)
        if not self.seen:
            engine.begin()


def _finish(engine: Engine, kind: str, current: _File | None) -> None:
    """Record a fully loaded file and commit it, so a failure mid-file leaves nothing half-loaded."""
    if current is None or current.seen:
        return
    engine.record_file(kind, current.digest, current.source, current.rows)
    engine.commit()


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
