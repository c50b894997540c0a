"""A side reader reads the store from another thread while detection clusters; the results do not depend on it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pandas as pd
import pytest
from ringwatch.graph.detection import pipeline
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.engines.embedded.engine import EmbeddedEngine
from scenario_store import scenario_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return scenario_store(tmp_path_factory.mktemp("side"), accounts=1500, seed=3)


def test_the_side_reader_reads_committed_data_from_another_thread_and_none_is_given_inside_a_unit_of_work(store,
                                                                                                          tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(store, db)
    with open_engine("embedded", db) as engine:
        expected = engine.usage_summary().sort_values("account_id", ignore_index=True)
        reader = engine.side_reader()
        got = {}
        worker = threading.Thread(target=lambda: got.update(sums=reader.usage_summary()))
        worker.start()
        worker.join()
        reader.close()
        pd.testing.assert_frame_equal(got["sums"].sort_values("account_id", ignore_index=True), expected)
        with engine.transaction():
            assert engine.side_reader() is None


def _results(db):
    with open_engine("embedded", db) as engine:
        return {name: engine.results(name).sort_values(list(engine.results(name).columns[:2]), ignore_index=True)
                for name in ("accounts", "rings", "ring_evidence")}


def test_detection_gives_the_same_rings_with_the_usage_sums_read_beside_it_or_after_it(store, tmp_path, monkeypatch):
    beside, after = tmp_path / "beside.duckdb", tmp_path / "after.duckdb"
    shutil.copy(store, beside)
    shutil.copy(store, after)
    threads = []
    real = pipeline._usage_sums

    def watched(engine):
        threads.append(threading.current_thread().name)
        return real(engine)

    monkeypatch.setattr(pipeline, "_usage_sums", watched)
    with open_engine("embedded", beside) as engine:
        detect(engine)
    monkeypatch.setattr(EmbeddedEngine, "side_reader", lambda self: None)
    with open_engine("embedded", after) as engine:
        detect(engine)
    assert threads[0].startswith("ringwatch-side-reader") and threads[1] == threading.main_thread().name
    first, second = _results(beside), _results(after)
    assert len(first["rings"]) and first["accounts"]["flagged"].any()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


SETTINGS_SEEN = """import sys
from ringwatch.graph.engines import open_engine
with open_engine("embedded", sys.argv[1]) as engine:
    reader = engine.side_reader()
    for con in (engine.con, reader.con):
        print(con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0])
    reader.close()
"""


def test_neither_connection_draws_a_progress_bar_on_standard_output(tmp_path):
    # DuckDB draws one on standard output for a query of over two seconds, even into a pipe, where it would run
    # into what a command prints. Asked in a process of its own: under pytest DuckDB starts with the bar off.
    seen = subprocess.run([sys.executable, "-c", SETTINGS_SEEN, str(tmp_path / "quiet.duckdb")], capture_output=True,
                          text=True, check=True).stdout.split()
    assert seen == ["False", "False"]
