"""Shared fixtures; Neo4j tests run only against a live server named by NEO4J_URI."""

from __future__ import annotations

import os

import pytest

NEO4J_REASON = "NEO4J_URI is not set: Neo4j engine tests need a live Neo4j + Graph Data Science server"


def pytest_collection_modifyitems(config, items):
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
