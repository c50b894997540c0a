"""DuckDB's memory limit: as the user sets it, or by default a share of the memory this machine or container has."""

from __future__ import annotations

import pytest
from ringwatch.graph.engines import EngineError, open_engine
from ringwatch.graph.engines.embedded.files import scan_files

from ringwatch import settings
from ringwatch.settings import MEMORY_SHARE, memory_limit, usable_memory

GIB = 2**30


def _store_limit(path) -> str:
    """The memory limit the embedded engine's store runs under, as DuckDB shows it."""
    with open_engine("embedded", path) as engine:
        return engine.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_auto_is_a_share_of_the_usable_memory_and_a_given_limit_is_kept(monkeypatch):
    monkeypatch.setattr(settings, "usable_memory", lambda: 24 * GIB)
    assert memory_limit({}) == f"{int(24 * GIB * MEMORY_SHARE) // 2**20}MiB" == "6144MiB"
    assert memory_limit({"RINGWATCH_MEMORY_LIMIT": "AUTO"}) == "6144MiB"
    assert memory_limit({"RINGWATCH_MEMORY_LIMIT": "5GB"}) == "5GB"
    monkeypatch.setattr(settings, "usable_memory", lambda: 2 * GIB)
    assert memory_limit({}) == "1024MiB"  # never below 1 GiB
    monkeypatch.setattr(settings, "usable_memory", lambda: None)
    assert memory_limit({}) == "3GB"


def test_a_container_limit_below_the_machine_is_the_usable_memory(tmp_path):
    machine = usable_memory(limits=())
    assert machine and machine > GIB
    v2, v1 = tmp_path / "memory.max", tmp_path / "limit_in_bytes"
    v2.write_text("max\n")
    v1.write_text(f"{GIB}\n")
    assert usable_memory(limits=(v2,)) == machine  # "max": no container limit
    assert usable_memory(limits=(tmp_path / "missing", v2, v1)) == GIB
    v1.write_text(f"{machine * 4}\n")  # a limit above the machine changes nothing
    assert usable_memory(limits=(v1,)) == machine


def test_the_store_and_the_file_readers_run_under_the_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("RINGWATCH_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(settings, "usable_memory", lambda: 8 * GIB)
    assert _store_limit(tmp_path / "a.duckdb") == "2.0 GiB"
    query = "SELECT current_setting('memory_limit') AS m FROM (SELECT ?)"
    assert next(scan_files(query, ["f"], 10, {})).column("m").to_pylist() == ["2.0 GiB"]
    monkeypatch.setenv("RINGWATCH_MEMORY_LIMIT", "1536MiB")
    assert _store_limit(tmp_path / "b.duckdb") == "1.5 GiB"
    assert next(scan_files(query, ["f"], 10, {})).column("m").to_pylist() == ["1.5 GiB"]


def test_a_limit_that_is_no_size_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("RINGWATCH_MEMORY_LIMIT", "plenty")
    with pytest.raises(ValueError, match="RINGWATCH_MEMORY_LIMIT must be a size such as 6GB, or auto, got 'plenty'"):
        open_engine("embedded", tmp_path / "c.duckdb")
    monkeypatch.setenv("RINGWATCH_MEMORY_LIMIT", "5 parsecs")  # a size in a unit DuckDB does not know
    with pytest.raises(EngineError, match="parsecs"):
        open_engine("embedded", tmp_path / "d.duckdb")
