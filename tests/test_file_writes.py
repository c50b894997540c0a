"""Files the command line writes land whole or not at all, and a failure is one line naming the file and the cause.

The full disk is real: a small tmpfs mounted for each test (mounting needs root; without
it those tests skip and say so) and /dev/full, which fails every write with ENOSPC. The
installed `ringwatch` command runs as a user would run it, so a traceback would show.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from browser_support import ringwatch
from dashboard_store import make_demo_store
from ringwatch.graph.casework import bans, batches
from ringwatch.graph.engines import EngineError, open_engine

ANALYST = "ann"
OLD = b"the previous file, which a failed write must leave as it was\n"
FULL = "No space left on device"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("writes")
    db = make_demo_store(folder, accounts=1000)
    with open_engine("embedded", db) as engine:
        top = engine.results("rings").sort_values("risk_score", ascending=False)["ring_id"].iloc[0]
        batch_id = batches.propose(engine, ANALYST, rings=[top])["batch_id"]
        if bans.batch(engine, batch_id)["status"] != "approved":
            batches.approve(engine, batch_id, "bob")
    return {"db": db, "batch": batch_id}


@pytest.fixture
def store(demo, tmp_path):
    """A private copy of the demo store: exports add audit entries."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(demo["db"], copy)
    return copy


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` mounted on ``folder`` for the block."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=False,
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the full-disk tests need root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Take every free byte of the filesystem holding ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for block in (1 << 16, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * block):
                    pass
    finally:
        os.close(fd)
    with pytest.raises(OSError) as excinfo:
        (folder / "probe").write_bytes(b"x" * 4096)
    assert excinfo.value.errno == errno.ENOSPC
    (folder / "probe").unlink()


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*ringwatch(), *map(str, args)], check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "RINGWATCH_ANALYST": ANALYST})


def exports_recorded(db) -> int:
    with open_engine("embedded", db) as engine:
        return len(engine.records("exports"))


WRITERS = {
    "export accounts": lambda demo, db, out: ["export", "accounts", "--db", db, "--out", out],
    "export rings": lambda demo, db, out: ["export", "rings", "--db", db, "--out", out],
    "export bans": lambda demo, db, out: ["export", "bans", "--db", db, "--out", out],
    "batch export": lambda demo, db, out: ["batch", "export", demo["batch"], "--db", db, "--out", out],
    "review": lambda demo, db, out: ["review", "--db", db, "--out", out],
}


def _one_clear_line(done: subprocess.CompletedProcess, out) -> None:
    shown = done.stdout + done.stderr
    assert done.returncode != 0, shown
    assert "Traceback" not in shown, shown
    assert done.stderr.strip() == f"Error: cannot write {out}: {FULL}", shown


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_write_on_a_full_disk_keeps_the_old_file_and_says_why(writer, demo, store, tmp_path):
    with small_disk(tmp_path / "disk", "16m") as disk:  # the review's page carries Plotly: about 5 MB
        out = disk / "out.csv"
        out.write_bytes(OLD)
        fill(disk)
        before = exports_recorded(store)
        done = cli(*WRITERS[writer](demo, store, out))
        assert exports_recorded(store) == before, "an export that never reached the disk was audited"
        assert out.read_bytes() == OLD
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "out.csv"], "a temporary file was left behind"
        _one_clear_line(done, out)

        (disk / "filler").unlink()
        done = cli(*WRITERS[writer](demo, store, out))
        assert done.returncode == 0, done.stdout + done.stderr
        assert out.read_bytes() != OLD
        assert sorted(p.name for p in disk.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("writer", ["export bans", "batch export"])
def test_an_audited_export_names_the_bytes_on_disk(writer, demo, store, tmp_path):
    out = tmp_path / "bans.csv"
    assert cli(*WRITERS[writer](demo, store, out)).returncode == 0
    with open_engine("embedded", store) as engine:
        last = engine.records("exports").iloc[-1]
    assert last["content_hash"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert last["path"] == str(out) and stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_generated_files_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", "256k") as disk:
        (disk / "data").mkdir()
        (disk / "data" / "signups.parquet").write_bytes(OLD)
        fill(disk)
        done = cli("generate", "--out", disk / "data", "--accounts", 500)
        _one_clear_line(done, disk / "data" / "signups.parquet")
        assert (disk / "data" / "signups.parquet").read_bytes() == OLD
        assert sorted(p.name for p in (disk / "data").iterdir()) == ["signups.parquet"]


def test_the_quarantine_on_a_full_disk(tmp_path):
    data = tmp_path / "data"
    assert cli("generate", "--out", data, "--accounts", 500, "--format", "csv").returncode == 0
    with small_disk(tmp_path / "disk", "256k") as disk:
        fill(disk)
        out = disk / "quarantine.csv"
        done = cli("ingest", "--db", tmp_path / "store.duckdb", "--signups", data / "signups.csv.gz",
                   "--quarantine", out)
        _one_clear_line(done, out)
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_dev_full_is_one_clear_line_and_stays_a_device(writer, demo, store):
    before = exports_recorded(store)
    done = cli(*WRITERS[writer](demo, store, "/dev/full"))
    assert exports_recorded(store) == before, "an export that never reached the disk was audited"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    _one_clear_line(done, "/dev/full")


def test_a_store_on_a_full_disk_reports_the_cause(tmp_path):
    """A write that fails inside a unit of work: the cause, not the failed clean-up after it, and the store still answers."""
    rows = 300_000  # more than one DuckDB row group, so the rows go to the store's file before the commit
    frame = pd.DataFrame({"account_id": [f"acct_{i:07d}" for i in range(rows)],
                          "reasons": [f"shares device dev_{i} with 12 other members" for i in range(rows)]})
    with small_disk(tmp_path / "disk", "2m") as disk, open_engine("embedded", disk / "store.duckdb") as engine:
        with pytest.raises(EngineError) as excinfo:
            engine.save_results({"accounts": frame})
        assert FULL in str(excinfo.value) and "rollback" not in str(excinfo.value)
        assert engine.counts()["accounts"] == 0


def test_a_refused_rollback_does_not_hide_the_cause(db_path):
    """DuckDB ends a unit of work itself when a write fails for good; its "cannot rollback" is not the news."""
    with open_engine("embedded", db_path) as engine:
        with pytest.raises(EngineError) as excinfo, engine.transaction():
            engine.con.execute("COMMIT")  # the store ends the unit of work behind the engine's back
            raise EngineError("the cause")
        assert str(excinfo.value) == "the cause"
        assert any("cannot rollback" in note for note in excinfo.value.__notes__)
        with engine.transaction():  # and the engine goes on working
            engine.append_records("decisions", pd.DataFrame([{"target": "R-1"}]))
        assert len(engine.records("decisions")) == 1


def test_ingest_on_a_full_disk_is_one_clear_line(tmp_path):
    rows = 150_000
    signups = tmp_path / "signups.csv"
    pd.DataFrame({"account_id": [f"acct_{i:07d}" for i in range(rows)],
                  "created_at": "2026-11-01T00:00:00Z",
                  "email": [f"user{i}@example.org" for i in range(rows)],
                  "device_id": [f"dev{i // 3}" for i in range(rows)]}).to_csv(signups, index=False)
    with small_disk(tmp_path / "disk", "2m") as disk:
        done = cli("ingest", "--db", disk / "store.duckdb", "--signups", signups, "--quarantine", tmp_path / "q.csv")
        shown = done.stdout + done.stderr
        assert done.returncode == 1 and "Traceback" not in shown, shown
        assert FULL in done.stderr and len(done.stderr.strip().splitlines()) == 1, shown
        assert "rollback" not in shown and "transaction is aborted" not in shown


def test_replacing_keeps_a_files_mode_and_writes_through_a_link(tmp_path):
    from ringwatch.files import write_file

    target = tmp_path / "bans.csv"
    target.write_bytes(OLD)
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    write_file(link, b"new\n")
    assert link.is_symlink() and target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bans.csv", "latest.csv"]
