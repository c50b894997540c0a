"""Shared fixtures; Neo4j tests run only against a live server named by NEO4J_URI.

``@pytest.mark.notimpl(["engine", ...], raises=NotSupported)`` declares that an engine lacks
what a contract test needs: on those engines the test must raise that error (strict xfail),
so it fails loudly once the engine starts to support it.
"""

from __future__ import annotations

import os

import pytest

NEO4J_REASON = "NEO4J_URI is not set: Neo4j engine tests need a live Neo4j + Graph Data Science server"
# The throwaway in-memory engine of tests/memory_engine, registered by the fixture below.
MEMORY_ENGINE = "memory_engine.engine:MemoryEngine"


@pytest.fixture
def memory_engine(monkeypatch):
    """Register the in-memory test engine as `memory`: one registry line, nothing else."""
    from ringwatch.graph.engines import registry

    monkeypatch.setitem(registry.ENGINES, "memory", MEMORY_ENGINE)
    return "memory"


def _declare_gaps(items):
    for item in items:
        marker = item.get_closest_marker("notimpl")
        engine = getattr(getattr(item, "callspec", None), "params", {}).get("engine")
        if marker and engine in marker.args[0]:
            item.add_marker(pytest.mark.xfail(raises=marker.kwargs["raises"], strict=True,
                                              reason=f"{engine}: {marker.kwargs.get('reason', 'not supported')}"))


def pytest_collection_modifyitems(config, items):
    _declare_gaps(items)
    if os.environ.get("NEO4J_URI"):
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("neo4j") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
        config._ringwatch_neo4j_deselected = len(dropped)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = getattr(config, "_ringwatch_neo4j_deselected", 0)
    if n:
        terminalreporter.write_line(f"{n} Neo4j tests deselected: {NEO4J_REASON}")


@pytest.fixture
def db_path(tmp_path):
    """A fresh store path in a temp dir."""
    return tmp_path / "test.duckdb"
