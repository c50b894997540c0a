"""Shared fixtures, and the servers the Neo4j tests run against.

Tests marked ``neo4j`` run against the server NEO4J_URI names. When it is not set and the
``arcadedb-embedded`` wheel is installed, the session starts a throwaway ArcadeDB Bolt server
(``tests/bolt_server.py``) once, only if a selected test is marked ``neo4j``, points
NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD at it, and stops it when the session ends. Tests
marked ``gds`` also need Graph Data Science: the server is asked ``RETURN gds.version()``
once, and without GDS they are deselected. Tests marked ``spark`` run the Spark engine in
local mode, and are deselected where pyspark or a Java runtime is missing. Deselections are
explained in the summary.

``@pytest.mark.notimpl(["engine", ...], raises=NotSupported)`` declares that an engine lacks
what a contract test needs: on those engines the test must raise that error (strict xfail),
so it fails loudly once the engine starts to support it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import bolt_server
import browser_support
import neo4j
import pytest
from engine_params import registered
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DatabaseError,
    DriverError,
    Neo4jError,
)
from scenario_store import scenario_store

from ringwatch.settings import SETTINGS

NEO4J_REASON = ("NEO4J_URI is not set and arcadedb-embedded (the throwaway Bolt server) is not installed: "
                "Neo4j engine tests need a live server")
# The throwaway in-memory engine of tests/memory_engine, registered by the fixture below.
MEMORY_ENGINE = "memory_engine.engine:MemoryEngine"
DESELECTED = pytest.StashKey[list]()  # (count, what, reason)
SERVER = pytest.StashKey[bolt_server.BoltServer]()
SERVER_ERROR = pytest.StashKey[str]()


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
        if marker and engine is not None and registered(engine) in marker.args[0]:
            item.add_marker(pytest.mark.xfail(raises=marker.kwargs["raises"], strict=True,
                                              reason=f"{engine}: {marker.kwargs.get('reason', 'not supported')}"))


def _deselect(config, items, marker: str, what: str, reason: str) -> None:
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker(marker) else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
        config.stash.setdefault(DESELECTED, []).append((len(dropped), what, reason))


def _start_bolt_server(config) -> str | None:
    """Make sure a Neo4j-speaking server is there for the session; the reason when there is none."""
    if os.environ.get("NEO4J_URI"):
        return None
    if not bolt_server.available():
        return NEO4J_REASON
    if config.option.collectonly:
        return None
    try:
        server = bolt_server.start()
    except bolt_server.BoltServerError as exc:
        # The server was there to be started and did not start: its tests fail, saying why.
        config.stash[SERVER_ERROR] = str(exc)
        return None
    config.stash[SERVER] = server
    names = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(zip(names, (server.uri, server.user, server.password)))

    def stop():
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()

    config.add_cleanup(stop)
    return None


def _gds_missing() -> str | None:
    """Why the server has no Graph Data Science, or None when it has it (or cannot be asked)."""
    value = lambda name: SETTINGS[name].value() or None
    password = value("neo4j_password")
    auth = (value("neo4j_user"), password) if password is not None else None
    try:
        with (neo4j.GraphDatabase.driver(value("neo4j_uri"), auth=auth, connection_timeout=10) as driver,
              driver.session(database=value("neo4j_database")) as session):
            session.run("RETURN gds.version() AS version").consume()
    except AuthError:
        return None  # a server that refuses us is not a server without GDS: the tests fail, saying why
    except (ClientError, DatabaseError) as exc:
        # Servers report the unknown function as a client error (Neo4j) or a database error (ArcadeDB).
        first = (exc.message or str(exc)).splitlines()[0]
        return f"the server at NEO4J_URI has no Graph Data Science library (RETURN gds.version(): {first})"
    except (DriverError, Neo4jError, ValueError):
        return None  # unreachable or misaddressed: the tests fail, saying why
    return None


def _spark_missing() -> str | None:
    """Why the Spark engine cannot run here, or None when pyspark and a Java runtime are both there."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[test]' installs it): Spark engine tests need it"
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and shutil.which("java", path=os.path.join(home, "bin"))):
        return ("no Java runtime (java on PATH or JAVA_HOME; apt-get install openjdk-17-jre-headless): "
                "Spark engine tests need Java 17 or later")
    return None


@pytest.hookimpl(trylast=True)  # after -m and -k: start a server only for tests that are going to run
def pytest_collection_modifyitems(config, items):
    _declare_gaps(items)
    if any(item.get_closest_marker("spark") for item in items):
        reason = _spark_missing()
        if reason:
            _deselect(config, items, "spark", "Spark", reason)
    if not any(item.get_closest_marker("neo4j") for item in items):
        return
    reason = _start_bolt_server(config)
    if reason:
        _deselect(config, items, "neo4j", "Neo4j", reason)
        return
    if SERVER_ERROR in config.stash or config.option.collectonly:
        return
    if any(item.get_closest_marker("gds") for item in items):
        reason = _gds_missing()
        if reason:
            _deselect(config, items, "gds", "Graph Data Science", reason)


def pytest_runtest_setup(item):
    error = item.config.stash.get(SERVER_ERROR, None)
    if error and item.get_closest_marker("neo4j"):
        pytest.fail(f"{error.splitlines()[0]} (its log is printed at the end of the run)", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for count, what, reason in config.stash.get(DESELECTED, []):
        terminalreporter.write_line(f"{count} {what} tests deselected: {reason}")
    server = config.stash.get(SERVER, None)
    if server is not None:
        terminalreporter.write_line(f"Neo4j tests ran against a throwaway ArcadeDB Bolt server at {server.uri} "
                                    f"(started in {server.started_in:.1f} s)")
    if SERVER_ERROR in config.stash:
        terminalreporter.write_line(config.stash[SERVER_ERROR])


@pytest.fixture
def db_path(tmp_path):
    """A fresh store path in a temp dir."""
    return tmp_path / "test.duckdb"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module (the browser tests)."""
    with browser_support.chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A fresh tab in its own browser context (``browser_support.new_page``)."""
    with browser_support.new_page(browser) as tab:
        yield tab


@pytest.fixture(scope="session")
def detected_store(tmp_path_factory):
    """The demo scenario (1,500 accounts, seed 5) after one detection run: closed, for casework tests to copy."""
    return scenario_store(tmp_path_factory.mktemp("detected"), accounts=1500, seed=5, detected=True)
