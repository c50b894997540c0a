"""Connection failures become one clear line: what was found, what is needed, how to fix it.

The driver is replaced by a stand-in that raises the driver's own exceptions, so no server
(and no GraphDataScience client, whose construction retries for about a minute) is needed.
"""

from __future__ import annotations

import logging
import os
import subprocess

import neo4j
import pytest
from browser_support import ringwatch
from neo4j.exceptions import AuthError, CypherSyntaxError, ServiceUnavailable
from ringwatch.graph.engines import EngineError, open_engine
from ringwatch.graph.engines.neo4j import queries as q
from ringwatch.graph.engines.neo4j.connection import Neo4jSettings, parse_version

SECRET = "s3cret-Pa55"


class FakeResult:
    def __init__(self, records):
        self.records = records


class FakeDriver:
    """Answers verify_connectivity and execute_query the way a configured test asks."""

    def __init__(self, fail=None, gds_version="2.13.4"):
        self.fail = fail
        self.gds_version = gds_version
        self.closed = False
        self.queries = []

    def verify_connectivity(self):
        if self.fail is not None:
            raise self.fail

    def execute_query(self, query, params, database_=None, routing_=None):
        self.queries.append((query, params, database_, routing_))
        if query == q.GDS_VERSION:
            if self.gds_version is None:
                raise CypherSyntaxError("Unknown function 'gds.version'")
            return FakeResult([{"version": self.gds_version}])
        return FakeResult([])

    def close(self):
        self.closed = True


@pytest.fixture
def server(monkeypatch):
    """Point the engine at a stand-in driver; returns a function that sets how it behaves."""
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.setenv("NEO4J_USER", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
    monkeypatch.delenv("NEO4J_DATABASE", raising=False)
    made = []

    def configure(**kw):
        def driver(uri, auth=None):
            assert auth == ("neo4j", SECRET)
            made.append(FakeDriver(**kw))
            return made[-1]

        monkeypatch.setattr(neo4j.GraphDatabase, "driver", driver)
        return made

    return configure


def _message(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text and SECRET not in text
    return text


def test_unreachable_server(server):
    made = server(fail=ServiceUnavailable("Couldn't connect to db.example:7687"))
    with pytest.raises(EngineError) as excinfo:
        open_engine("neo4j")
    text = _message(excinfo)
    assert "unreachable at bolt://db.example:7687" in text and "docker compose up -d --wait" in text
    assert made[0].closed


def test_wrong_password(server):
    made = server(fail=AuthError("The client is unauthorized due to authentication failure."))
    with pytest.raises(EngineError) as excinfo:
        open_engine("neo4j")
    text = _message(excinfo)
    assert "rejected user 'neo4j'" in text and "NEO4J_PASSWORD" in text
    assert made[0].closed


def test_gds_missing_fails_when_gds_is_asked_for(server, monkeypatch):
    monkeypatch.setenv("RINGWATCH_NEO4J_ALGORITHMS", "gds")
    made = server(gds_version=None)
    with pytest.raises(EngineError) as excinfo:
        open_engine("neo4j")
    text = _message(excinfo)
    assert "no Graph Data Science library" in text and "GDS >= 2.13" in text
    assert "NEO4J_PLUGINS" in text
    assert made[0].closed


def test_gds_missing_runs_the_algorithms_here_and_says_so_once(server, monkeypatch, caplog):
    from ringwatch.graph.engines.neo4j import engine as neo4j_engine
    from ringwatch.graph.engines.neo4j.local import LocalRunner

    monkeypatch.delenv("RINGWATCH_NEO4J_ALGORITHMS", raising=False)
    monkeypatch.setattr(neo4j_engine, "_SAID_LOCAL", False)
    server(gds_version=None)
    with caplog.at_level("WARNING"):
        for _ in range(2):
            with open_engine("neo4j") as engine:
                assert isinstance(engine.gds, LocalRunner)
    said = [r.getMessage() for r in caplog.records if "in this process instead" in r.getMessage()]
    assert len(said) == 1 and "no Graph Data Science library" in said[0]


def test_local_algorithms_do_not_probe_for_gds(server, monkeypatch):
    from ringwatch.graph.engines.neo4j.local import LocalRunner

    monkeypatch.setenv("RINGWATCH_NEO4J_ALGORITHMS", "local")
    made = server(gds_version="2025.10.1")
    with open_engine("neo4j") as engine:
        assert isinstance(engine.gds, LocalRunner)
    assert q.GDS_VERSION not in [query for query, *_ in made[0].queries]
    monkeypatch.setenv("RINGWATCH_NEO4J_ALGORITHMS", "sometimes")
    with pytest.raises(EngineError, match="RINGWATCH_NEO4J_ALGORITHMS must be one of auto, gds, local"):
        open_engine("neo4j")


def test_gds_too_old(server):
    made = server(gds_version="2.6.9")
    with pytest.raises(EngineError) as excinfo:
        open_engine("neo4j")
    text = _message(excinfo)
    assert "Graph Data Science 2.6.9" in text and "needs GDS >= 2.13" in text and "upgrade" in text
    assert made[0].closed


def test_supported_gds_opens_and_sets_up_the_schema(server):
    made = server(gds_version="2025.10.1")
    engine = open_engine("neo4j", "ignored.duckdb")
    try:
        sent = [query for query, *_ in made[0].queries]
        assert sent[0] == q.GDS_VERSION
        assert sent[1:1 + len(q.SCHEMA)] == list(q.SCHEMA)
        assert made[0].queries[0][3] == neo4j.RoutingControl.READ
    finally:
        engine.close()
    assert made[0].closed


def test_default_uri_and_bad_batch_size():
    assert Neo4jSettings.from_env({}).uri == "bolt://localhost:7687"
    with pytest.raises(EngineError, match="RINGWATCH_NEO4J_BATCH must be a positive integer"):
        Neo4jSettings.from_env({"NEO4J_URI": "bolt://x", "RINGWATCH_NEO4J_BATCH": "0"})


def test_settings_never_show_the_password():
    settings = Neo4jSettings.from_env({"NEO4J_URI": "bolt://x:7687", "NEO4J_PASSWORD": SECRET,
                                       "RINGWATCH_NEO4J_BATCH": "500", "NEO4J_DATABASE": "fraud"})
    assert SECRET not in repr(settings)
    assert (settings.user, settings.database, settings.batch_size) == ("neo4j", "fraud", 500)


def test_version_parsing_handles_semantic_and_calendar_versions():
    assert parse_version("2.13.2") == (2, 13, 2)
    assert parse_version("2.6.9") < parse_version("2.13.0") < parse_version("2025.10.1")
    assert parse_version("2.14.0-alpha01") == (2, 14, 0)


CREDENTIAL_URIS = [f"bolt://neo4j:{SECRET}@db.example:7687", f"neo4j+s://neo4j:{SECRET}@db.example",
                   f"bolt://:{SECRET}@db.example", f"bolt://neo4j:{SECRET}/x@db.example:7687",
                   f"neo4j:{SECRET}@db.example:7687"]


@pytest.mark.parametrize("uri", CREDENTIAL_URIS)
def test_an_address_with_credentials_is_refused_without_showing_them(uri, monkeypatch, caplog):
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(EngineError) as excinfo:
        open_engine("neo4j")
    text = _message(excinfo)
    assert "NEO4J_PASSWORD" in text and "***@db.example" in text
    assert SECRET not in caplog.text and SECRET not in repr(excinfo.value.__cause__)


def test_the_command_line_never_prints_a_password_from_the_address(tmp_path):
    """The installed command, verbose, on an address with credentials: one line, no traceback, no password."""
    env = {**os.environ, "NEO4J_URI": f"bolt://neo4j:{SECRET}@db.example:7687", "RINGWATCH_ENGINE": "neo4j"}
    env.pop("NEO4J_PASSWORD", None)
    for args in (["-v", "detect"], ["-v", "export", "rings", "--out", str(tmp_path / "rings.csv")]):
        done = subprocess.run([*ringwatch(), *args], check=False, capture_output=True, text=True, env=env, timeout=120)
        shown = done.stdout + done.stderr
        assert done.returncode == 1 and SECRET not in shown and "Traceback" not in shown, shown
        assert done.stderr.startswith("Error: NEO4J_URI bolt://***@db.example:7687"), shown
        assert len(done.stderr.strip().splitlines()) == 1, shown


@pytest.mark.neo4j
def test_a_refused_statement_is_named_in_one_line(monkeypatch):
    # A live server refuses a statement sent without its parameters; the error says which statement.
    monkeypatch.setenv("RINGWATCH_NEO4J_ALGORITHMS", "local")
    with open_engine("neo4j") as engine, pytest.raises(EngineError) as caught:
        engine.cypher.run(q.PAIR_CANDIDATES, {})
    text = str(caught.value)
    assert text.startswith("Neo4j (PAIR_CANDIDATES): ") and "\n" not in text and len(text) < 340
