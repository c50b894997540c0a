"""The demo, end to end: a fresh store, a generated scenario, detection, exports and evaluation.

``run_demo`` is what `ringwatch demo` runs. The store is rebuilt from scratch, so it must be
new or one an earlier demo made: a file-backed store that a demo did not create is refused
(its files are never deleted), and a store on a server that holds accounts is wiped only
when asked (``replace``). With ``weeks`` > 1 the scenario arrives as weekly batches, each
ingested, detected and worked by the demo analyst team (``analysts``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ringwatch.scenarios.generate import generate
from ringwatch.scenarios.weeks import generate_weeks

from ringwatch.files import write_file

from ..casework.exports import accounts_table, bans_table, rings_table, write_csv
from ..detection.lineage import latest_events
from ..detection.params import DetectionParams
from ..detection.pipeline import DetectionSummary, detect
from ..engines import EngineError, open_engine, store_files
from ..load import ingest
from ..reports.evaluation import evaluate
from .analysts import work_the_week

MARKER_SUFFIX = ".demo"
WEEK_EVENTS = ("new", "grown", "split", "merged", "dissolved")
EXPORTS = {"accounts": accounts_table, "rings": rings_table, "bans": bans_table}


def _quiet(*_) -> None:
    """A progress callback that reports nothing."""


@dataclass
class Progress:
    """Where a long run reports how far it is: rows read while loading, detection steps."""

    rows: Callable[[int], None] = _quiet
    step: Callable[[str], None] = _quiet


@dataclass
class WeekReport:
    """One replayed week: what arrived, what detection found, what the demo analysts did."""

    week: int
    start: object
    end: object
    accounts: int
    usage_rows: int
    rings: int
    events: dict[str, int]
    work: dict


@dataclass
class DemoResult:
    """What a demo run did, for the command line to print."""

    ingest_rows: list[dict]
    counts: dict[str, int]
    detection: DetectionSummary
    metrics: dict
    written: dict[str, Path]
    quarantine: Path | None
    weeks: list[WeekReport] = field(default_factory=list)
    seconds: float = 0.0


def reset_store(engine_name: str | None, db, replace: bool = False) -> None:
    """Make the store empty for a demo, refusing to destroy data a demo did not create."""
    files = store_files(engine_name, db)
    marker = Path(f"{files[0]}{MARKER_SUFFIX}") if files else None
    if marker:
        if files[0].exists() and not marker.exists():
            raise EngineError(f"{files[0]} holds data that a demo did not create; pass --db with a new path")
        for stale in files:
            stale.unlink(missing_ok=True)
    with open_engine(engine_name, db) as engine:
        held = engine.counts()["accounts"]
        if held and not replace:
            raise EngineError(f"the {engine.name} store already holds {held:,} accounts; "
                              "use an empty database or pass --replace to wipe it for the demo")
        if held:
            engine.clear_store()
    if marker:
        write_file(marker, b"created by ringwatch demo\n")


def run_quarantine_path(db) -> Path:
    """Where a run's quarantined rows go unless told: beside the store, named by the run's UTC time."""
    return Path(f"{db}.quarantine-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.csv")


def ingest_files(engine_name: str | None, db, *, signups=None, usage=None, labels=None, identifiers=(),
                 quarantine=None, on_rows: Callable[[int], None] = _quiet):
    """Load files into the store (``load.ingest``); returns the run summary and the store's counts after it.

    Quarantined rows go to ``quarantine`` (default ``run_quarantine_path``), or beside it when
    an earlier run's file is there; ``summary.quarantine_file`` names the file written.
    """
    quarantine = quarantine or run_quarantine_path(db)
    with open_engine(engine_name, db) as engine:
        summary = ingest(engine, signups=signups, usage=usage, labels=labels, extra_identifiers=tuple(identifiers),
                         on_batch=lambda b: on_rows(b.rows_read), quarantine_path=quarantine)
        return summary, engine.counts()


def run_demo(engine_name: str | None, db, out, *, accounts: int, seed: int, weeks: int = 1, replace: bool = False,
             progress: Progress | None = None, on_week: Callable[[WeekReport], None] = _quiet) -> DemoResult:
    """Generate, ingest, detect, export and evaluate (see the module docstring)."""
    progress = progress or Progress()
    started = time.perf_counter()
    out = Path(out)
    reset_store(engine_name, db, replace)
    shutil.rmtree(out / "data", ignore_errors=True)
    quarantine = out / "quarantine.csv"
    reports: list[WeekReport] = []
    if weeks > 1:
        rows, counts, result, quarantine = _replay_weeks(engine_name, db, out, accounts, seed, weeks, progress,
                                                         reports, on_week)
    else:
        files = generate(out / "data", accounts=accounts, seed=seed, fmt="parquet")
        summary, counts = ingest_files(engine_name, db, signups=files.signups, usage=files.usage, labels=files.labels,
                                       quarantine=str(quarantine), on_rows=progress.rows)
        rows, quarantine = summary.as_rows(), summary.quarantine_file
        with open_engine(engine_name, db) as engine:
            result = detect(engine, DetectionParams(seed=seed), progress=progress.step)
    with open_engine(engine_name, db) as engine:
        written = {name: out / f"{name}.csv" for name in EXPORTS}
        for name, build in EXPORTS.items():
            write_csv(build(engine), written[name])
        metrics = evaluate(engine.results("accounts"), engine.labels())
    return DemoResult(rows, counts, result, metrics, written, Path(quarantine) if quarantine else None,
                      reports, time.perf_counter() - started)


def _replay_weeks(engine_name, db, out: Path, accounts: int, seed: int, weeks: int, progress: Progress,
                  reports: list, on_week):
    """Ingest the weekly batches one by one, detecting and working the rings after each."""
    scenario = generate_weeks(out / "data", weeks=weeks, accounts=accounts, seed=seed)
    result = counts = quarantine = None
    for week in scenario.weeks:
        summary, counts = ingest_files(engine_name, db, signups=week.signups, usage=week.usage, labels=week.labels,
                                       quarantine=str(out / f"quarantine-week{week.week}.csv"), on_rows=progress.rows)
        quarantine = summary.quarantine_file or quarantine
        with open_engine(engine_name, db) as engine:
            result = detect(engine, DetectionParams(seed=seed), progress=progress.step)
            last = latest_events(engine)
            work = work_the_week(engine, week.week, week.end)
        seen = last.loc[last["flagged"], "event"].value_counts()
        report = WeekReport(week.week, week.start, week.end, week.accounts, week.usage_rows, result.rings,
                            {e: int(seen.get(e, 0)) for e in WEEK_EVENTS}, work)
        reports.append(report)
        on_week(report)
    return [], counts, result, quarantine
