"""Load validated records from the ingest stage into an engine, idempotently.

Signups are keyed by account id (the first stored version wins, later copies count as
duplicates). A usage row may carry a request_id: a row whose id is stored already is a
duplicate. A file whose content was loaded before is skipped as a whole and its rows are
counted as duplicates; new files add to the store. Usage rows without a request_id that
overlap in time, per account, usage of another file are reported (``UsageSpans``). An engine
that reads files itself (``Engine.scan_files``) stores the clean rows of a usage file straight
from the file (``ingest.usage_sql``); the other rows come here validated, as every row does
for other engines.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import ExitStack
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import pandas as pd
from ringwatch.ingest.identifiers import melt_identifiers
from ringwatch.ingest.normalise import is_free_email_domain
from ringwatch.ingest.read_ahead import read_ahead
from ringwatch.ingest.reader import IngestSummary, UsageSpans, read_records
from ringwatch.ingest.sources import find_files
from ringwatch.ingest.usage_sql import clean_spans

from .casework.exports import write_csv
from .engines import Engine

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
    domain = (ids["kind"] == "email_domain").to_numpy()
    # Asked once per distinct domain: a few thousand domains stand for millions of rows.
    free_domains = [d for d in ids.loc[domain, "value"].unique() if is_free_email_domain(d)]
    free = domain & ids["value"].isin(free_domains).to_numpy()
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

    Every file of every kind is opened and its columns checked before the first row of any
    is stored. Each input file is one unit of work: a file that fails midway leaves nothing
    behind. Quarantined rows are kept in the store and, when ``quarantine_path`` is given,
    written as CSV (source, row, column, value, reason) to that path or, when a file is
    there already (an earlier run's, kept), to the first free ``<name>-2.csv``,
    ``<name>-3.csv``, ...; ``summary.quarantine_file`` names the file written, if any.
    """
    with ExitStack() as copies:  # an input the engine reads for the reader (a table, a URI), while it is read
        readable, given = [], {}
        for path in (signups, usage, labels):
            readable.append(None if path is None else copies.enter_context(engine.readable(path)))
            if readable[-1] is not None and str(readable[-1]) != str(path):
                given[str(readable[-1])] = str(path)
        return _ingest(engine, *readable, extra_identifiers, chunk_rows, on_batch, quarantine_path,
                       lambda source: _shown(source, given))


def _shown(source: str, given: dict[str, str]) -> str:
    """A file of an engine's copy of an input as the input the user named, with the file: ``table:x#part-00001.parquet``."""
    for copied, named in given.items():
        if source.startswith(copied.rstrip("/") + "/"):
            return f"{named}#{Path(source).name}"
    return source


def _named(batch, name: str):
    """The batch with its source (and its quarantined rows') named as the user knows it."""
    quarantine = batch.quarantine.assign(source=name) if len(batch.quarantine) else batch.quarantine
    return replace(batch, source=name, quarantine=quarantine)


def _ingest(engine: Engine, signups, usage, labels, extra_identifiers, chunk_rows, on_batch,
            quarantine_path, shown) -> IngestSummary:
    summary = IngestSummary()
    rejected: list[pd.DataFrame] = []
    # The next batch is read and validated while this one is stored.
    inputs = [(kind, read_ahead(read_records(kind, path, extra_identifiers=extra_identifiers, chunk_rows=chunk_rows,
                                             scan=engine.scan_files)))
              for kind, path in (("signups", signups), ("usage", usage), ("labels", labels)) if path is not None]
    spans = UsageSpans(lambda: _stored_spans(engine))
    usage_files = 0 if usage is None else len(find_files(usage))
    for kind, batches in inputs:
        # A file's batches come one after another, so grouping by source walks the files in turn.
        for source, file_batches in groupby(batches, key=lambda b: b.source):
            digest, name = file_digest(source), shown(source)
            if name != source:
                file_batches = (_named(batch, name) for batch in file_batches)
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
                    if batch.clean is not None:  # a usage file's clean rows, stored from the file
                        if spans.wanted(usage_files):
                            spans.add_spans(batch.source, clean_spans(batch.clean, engine.scan_files))
                        result = engine.load_usage_file(batch.clean)
                    else:
                        if kind == "usage":
                            spans.add(batch.source, batch.rows)
                        result = _load(engine, kind, batch.rows, extra_identifiers)
                    summary.record_loaded(kind, batch.source, result.loaded, duplicates=result.duplicates)
                    rows += batch.rows_read
                    if on_batch:
                        on_batch(batch)
                engine.record_file(kind, digest, name, rows)
    summary.check()
    summary.usage_overlaps, summary.overlapping_accounts = spans.overlaps()
    if quarantine_path is not None and rejected:
        summary.quarantine_file = str(_write_quarantine(rejected, quarantine_path))
    return summary


def _stored_spans(engine: Engine) -> pd.DataFrame | None:
    """Per account, the first and last usage the store holds (None when it holds none)."""
    if not engine.counts()["usage_rows"]:
        return None
    return engine.usage_summary()[["account_id", "first_ts", "last_ts"]]


def _count_seen(summary: IngestSummary, kind: str, batches, on_batch) -> None:
    """The same content was loaded before: its rows, good or bad, are duplicates."""
    for batch in batches:
        summary.add(batch)
        summary.record_loaded(kind, batch.source, 0, duplicates=batch.rows_read - len(batch.quarantine) - batch.duplicates)
        if on_batch:
            on_batch(batch)


def free_path(path) -> Path:
    """``path`` if nothing is there, else the first free ``<stem>-2<suffix>``, ``<stem>-3<suffix>``, ..."""
    path = Path(path)
    number = 2
    free = path
    while free.exists():
        free = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return free


def _write_quarantine(frames: list[pd.DataFrame], path) -> Path:
    """Write this run's quarantined rows beside, never over, an earlier run's file; returns the path."""
    path = free_path(path)
    write_csv(pd.concat(frames, ignore_index=True)[["source", "row", "column", "value", "reason"]], path)
    return path


def _load(engine: Engine, kind: str, rows: pd.DataFrame, extra_identifiers):
    if kind == "signups":
        return engine.load_accounts(rows, linkable_identifiers(rows, extra_identifiers))
    if kind == "usage":
        return engine.load_usage(rows)
    return engine.load_labels(rows)
