"""Adding an engine is one folder and one registry line.

``tests/memory_engine`` is a throwaway engine: tables in a dict, nothing but the seam's
primitives. Registered under a new name (the ``memory_engine`` fixture adds the one line
to ``engines.registry.ENGINES``), the same commands run on it unchanged, the command line
and the dashboard included, and find the same rings, byte for byte.
"""

from __future__ import annotations

from click.testing import CliRunner
from dashboard_store import APP, APP_TIMEOUT
from streamlit.testing.v1 import AppTest

from ringwatch.cli import main

ACCOUNTS, SEED, WEEKS = "2500", "4", "2"


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _demo(engine: str, folder):
    db, out = folder / engine / "store.duckdb", folder / engine / "demo"
    (folder / engine).mkdir()
    printed = _run("demo", "--engine", engine, "--db", str(db), "--out", str(out), "--accounts", ACCOUNTS,
                   "--seed", SEED, "--weeks", WEEKS)
    return db, out, printed


def test_the_same_commands_give_the_same_rings_on_a_new_engine(memory_engine, tmp_path, monkeypatch):
    runs = {name: _demo(name, tmp_path) for name in ("embedded", memory_engine)}
    for name in ("accounts", "rings", "bans"):
        assert (runs["embedded"][1] / f"{name}.csv").read_bytes() == (runs[memory_engine][1] / f"{name}.csv").read_bytes()
    weeks = [[line for line in printed.splitlines() if line.startswith(("week", "  demo analysts"))]
             for _, _, printed in runs.values()]
    assert weeks[0] == weeks[1] and len(weeks[0]) == 2 * int(WEEKS)

    db = str(runs[memory_engine][0])
    assert "hash chain verified" in _run("audit", "verify", "--engine", memory_engine, "--db", db)
    reviews = [_run("review", "--engine", e, "--db", str(d), "--out", str(tmp_path / f"{e}.html")).splitlines()[0]
               for e, (d, _, _) in runs.items()]
    assert reviews[0] == reviews[1]

    monkeypatch.setenv("RINGWATCH_ENGINE", memory_engine)
    monkeypatch.setenv("RINGWATCH_DB", db)
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run()
    assert not at.exception and not at.error
    rings = int(next(m.value for m in at.metric if m.label == "Rings flagged").replace(",", ""))
    assert rings == sum(1 for _ in (runs["embedded"][1] / "rings.csv").open()) - 1


def test_the_demo_never_deletes_files_for_an_engine_that_keeps_no_store_files(memory_engine, tmp_path):
    # A file at the --db path, even one an earlier demo marked as its own, is not this engine's store.
    db = tmp_path / "not-the-store.duckdb"
    db.write_bytes(b"someone's data")
    (tmp_path / "not-the-store.duckdb.demo").write_text("created by ringwatch demo\n")
    _run("demo", "--engine", memory_engine, "--db", str(db), "--out", str(tmp_path / "demo"), "--accounts", "600")
    assert db.read_bytes() == b"someone's data"


def test_detection_reports_each_of_its_steps_once_in_order(memory_engine, tmp_path):
    from ringwatch.graph.demo.pipeline import Progress, run_demo
    from ringwatch.graph.detection.pipeline import DETECTION_STEPS

    steps = []
    run_demo(memory_engine, tmp_path / "store", tmp_path / "demo", accounts=600, seed=1,
             progress=Progress(step=steps.append))
    assert steps == list(DETECTION_STEPS)
