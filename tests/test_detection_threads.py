"""Detection keeps both cores busy: pairs are judged and slices of clusters scored on threads while the
store makes the next part or reads the next slice.

What must hold: the engine is asked from the detecting thread alone (a DuckDB connection, a Bolt
session, serve one caller), slices are scored at once with no more slices held than threads, and
the results are those of one slice after another.
"""

from __future__ import annotations

import inspect
import shutil
import threading

import pandas as pd
import pytest
from ringwatch.graph.detection import pipeline
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import EngineError, open_engine
from scenario_store import scenario_store

TABLES = ("accounts", "rings", "ring_evidence")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo scenario at 3,000 accounts: enough clusters for many slices."""
    return scenario_store(tmp_path_factory.mktemp("threads"), accounts=3000, seed=1)


class OneCaller:
    """Wraps an engine's public methods (and the generators they return, item by item) to record every
    call made while another thread was inside the engine, and which threads asked it."""

    def __init__(self, engine):
        self.lock, self.owner, self.depth = threading.Lock(), None, 0
        self.overlaps, self.callers = [], set()
        for name, method in inspect.getmembers(engine, inspect.ismethod):
            if not name.startswith("_"):
                setattr(engine, name, self._guarded(name, method))

    def _enter(self, name: str) -> bool:
        me = threading.current_thread()
        with self.lock:
            self.callers.add(me.name)
            if self.owner not in (None, me):
                self.overlaps.append((name, me.name, self.owner.name))
                return False
            self.owner, self.depth = me, self.depth + 1
            return True

    def _leave(self, counted: bool) -> None:
        with self.lock:
            if counted:
                self.depth -= 1
                self.owner = self.owner if self.depth else None

    def _guarded(self, name, method):
        def call(*args, **kwargs):
            counted = self._enter(name)
            try:
                result = method(*args, **kwargs)
            finally:
                self._leave(counted)
            return self._items(name, result) if inspect.isgenerator(result) else result
        return call

    def _items(self, name, items):
        try:
            while True:
                counted = self._enter(name)
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self._leave(counted)
                yield item
        finally:
            counted = self._enter(name)
            try:
                items.close()
            finally:
                self._leave(counted)


def _results(engine) -> dict[str, pd.DataFrame]:
    return {name: _sorted(engine.results(name)) for name in TABLES}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_the_store_is_asked_from_one_thread_at_a_time(store, tmp_path, monkeypatch):
    copy = tmp_path / "one.duckdb"
    shutil.copy(store, copy)
    monkeypatch.setenv("RINGWATCH_CLUSTER_SLICE", "100")
    with open_engine("embedded", copy) as engine:
        engine.pair_part_rows = 300  # many parts: the store makes the next while one is judged
        guard = OneCaller(engine)
        summary = detect(engine)
    assert summary.rings > 0
    # Pairs are judged and slices scored on other threads, but only the thread that runs detection asks
    # the store (the usage sums read beside clustering go through a side reader of their own).
    assert guard.overlaps == []
    assert guard.callers == {threading.current_thread().name}


def test_slices_are_scored_at_once_holding_no_more_than_the_threads_and_give_the_results_of_one_at_a_time(
        store, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGWATCH_CLUSTER_SLICE", "100")
    real_score = pipeline._scored_slice
    both_started = threading.Barrier(2, timeout=60)
    lock, seen = threading.Lock(), {"calls": 0, "held": 0, "most": 0, "threads": set()}

    def scored(*args):
        with lock:
            seen["calls"] += 1
            first_two = seen["calls"] <= 2
            seen["threads"].add(threading.current_thread().name)
        if first_two:
            both_started.wait()  # breaks, and fails the run, unless two slices are scored at the same time
        try:
            return real_score(*args)
        finally:
            with lock:
                seen["held"] -= 1

    def counted_reads(real_reads, slices, bucket_minutes):
        for rows in real_reads(slices, bucket_minutes):
            with lock:
                seen["held"] += 1
                seen["most"] = max(seen["most"], seen["held"])
            yield rows

    threaded, serial = tmp_path / "threaded.duckdb", tmp_path / "serial.duckdb"
    shutil.copy(store, threaded)
    shutil.copy(store, serial)
    monkeypatch.setenv("RINGWATCH_SLICE_THREADS", "2")
    monkeypatch.setattr(pipeline, "_scored_slice", scored)
    with open_engine("embedded", threaded) as engine:
        reads = engine.member_slices
        monkeypatch.setattr(engine, "member_slices", lambda slices, minutes: counted_reads(reads, slices, minutes))
        detect(engine)
        first = _results(engine)
    assert seen["calls"] >= 4 and len(seen["threads"]) == 2
    assert seen["most"] == 2  # read and not yet scored: never more slices than threads

    monkeypatch.setattr(pipeline, "_scored_slice", real_score)
    monkeypatch.setenv("RINGWATCH_SLICE_THREADS", "1")
    with open_engine("embedded", serial) as engine:
        detect(engine)
        second = _results(engine)
    assert first["rings"]["flagged"].any()
    for name in TABLES:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def test_the_number_of_threads_is_checked(store, tmp_path, monkeypatch):
    copy = tmp_path / "bad.duckdb"
    shutil.copy(store, copy)
    monkeypatch.setenv("RINGWATCH_SLICE_THREADS", "0")
    with open_engine("embedded", copy) as engine, pytest.raises(ValueError, match="RINGWATCH_SLICE_THREADS"):
        detect(engine)


def _store_tables(engine) -> list[str]:
    return sorted(row[0] for row in engine.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall())


def test_a_slice_that_fails_stops_the_run_and_leaves_the_store_as_it_was(store, tmp_path, monkeypatch):
    copy = tmp_path / "failing.duckdb"
    shutil.copy(store, copy)
    monkeypatch.setenv("RINGWATCH_CLUSTER_SLICE", "100")
    real_score, calls = pipeline._scored_slice, []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("slice 3 could not be scored")
        return real_score(*args)

    monkeypatch.setattr(pipeline, "_scored_slice", failing)
    with open_engine("embedded", copy) as engine:
        before = _store_tables(engine)
        with pytest.raises(RuntimeError, match="slice 3 could not be scored"):
            detect(engine)
        # What the slices staged is gone while the store is open, and no results were written.
        assert _store_tables(engine) == before
        with pytest.raises(EngineError, match="no detection results"):
            engine.results("rings")
