"""Connecting to Neo4j + Graph Data Science, and the two seams every call goes through.

``CypherRunner`` sends each Cypher statement (one method, like an httpx transport) and
``GdsRunner`` makes the Graph Data Science client calls; tests substitute recording doubles
for both, so the engine's queries and parameters are checked without a server.

Connection settings come from the settings table (``ringwatch.settings``): ``NEO4J_URI``
(default ``bolt://localhost:7687``, the compose file's server), ``NEO4J_USER`` (default
``neo4j``), ``NEO4J_PASSWORD``, optional ``NEO4J_DATABASE``. The password is never logged,
shown or put into a message. An address that carries credentials (``bolt://user:pw@host``)
is refused, with them hidden: the driver would refuse it anyway, printing it whole, and
NEO4J_PASSWORD stays the one place a password is read from, so no address printed in a
message, log or repr can hold one. The driver's errors become ``EngineError`` here, so
nothing outside the engine sees them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import neo4j
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    DatabaseError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
)

from ringwatch.settings import SETTINGS

from ..errors import EngineError
from . import queries as q

START_HINT = "start it with `docker compose up -d --wait`"
ALGORITHMS = ("auto", "gds", "local")


class GdsMissing(EngineError):
    """The server has no Graph Data Science library."""


@dataclass(frozen=True)
class Neo4jSettings:
    """Where the server is and how to talk to it; the password never shows in a repr."""

    uri: str
    user: str = "neo4j"
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    batch_size: int = 10_000
    stale_minutes: int = 60
    # Candidate pairs grouped in one pair-evidence query; more are split into pieces.
    pair_piece: int = 2_000_000
    # Where the graph algorithms run: auto (GDS when the server has it, else in this process),
    # gds (GDS or fail) or local (in this process, the embedded engine's implementations).
    algorithms: str = "auto"

    def __post_init__(self) -> None:
        if self.algorithms not in ALGORITHMS:
            raise EngineError(f"RINGWATCH_NEO4J_ALGORITHMS must be one of {', '.join(ALGORITHMS)}, "
                              f"got {self.algorithms!r}")
        # A Neo4j address never holds an "@" but before its host, as user information.
        if self.uri and "@" in self.uri:
            raise EngineError(f"NEO4J_URI {hide_credentials(self.uri)} carries credentials: give only the "
                              "server's address and set NEO4J_USER and NEO4J_PASSWORD")

    @classmethod
    def from_env(cls, env=None) -> Neo4jSettings:
        """Settings from the NEO4J_* and RINGWATCH_NEO4J_* variables (``env``, else the environment)."""
        value = lambda name: SETTINGS[name].value(env) or None
        try:
            batch = SETTINGS["neo4j_batch"].integer(env, minimum=1)
            stale = SETTINGS["neo4j_stale_minutes"].integer(env, minimum=1)
            piece = SETTINGS["neo4j_pair_piece"].integer(env, minimum=1)
        except ValueError as exc:
            raise EngineError(str(exc)) from None
        return cls(uri=value("neo4j_uri"), user=value("neo4j_user"), password=value("neo4j_password"),
                   database=value("neo4j_database"), batch_size=batch, stale_minutes=stale,
                   pair_piece=piece,
                   algorithms=(value("neo4j_algorithms") or "auto").strip().lower())


def hide_credentials(uri: str) -> str:
    """The address with everything between the scheme and its last "@" hidden: ``bolt://***@host:7687``."""
    head, at, host = uri.rpartition("@")
    if not at:
        return uri
    scheme, sep, _ = head.partition("://")
    return f"{scheme}{sep}***@{host}" if sep else f"***@{host}"


def connect(settings: Neo4jSettings) -> neo4j.Driver:
    """An authenticated driver, or one clear EngineError line saying what is wrong and how to fix it."""
    auth = (settings.user, settings.password) if settings.password is not None else None
    try:
        driver = neo4j.GraphDatabase.driver(settings.uri, auth=auth)
    except (ValueError, ConfigurationError) as exc:
        raise EngineError(f"NEO4J_URI {settings.uri!r} is not a Neo4j address ({exc}); use e.g. bolt://localhost:7687") from None
    try:
        driver.verify_connectivity()
    except AuthError:
        driver.close()
        raise EngineError(
            f"Neo4j at {settings.uri} rejected user {settings.user!r}: wrong NEO4J_USER or NEO4J_PASSWORD; "
            "set them to the credentials the server was started with (NEO4J_AUTH, see .env)"
        ) from None
    except ServiceUnavailable:
        driver.close()
        raise EngineError(
            f"Neo4j is unreachable at {settings.uri}: no server answered; {START_HINT} "
            "or point NEO4J_URI at a running server"
        ) from None
    return driver


def parse_version(text: str) -> tuple[int, ...]:
    """Leading numbers of a version string: '2.13.2' -> (2, 13, 2), '2025.10.1' -> (2025, 10, 1)."""
    parts = re.findall(r"\d+", str(text).split("-")[0])
    return tuple(int(p) for p in parts[:3])


def check_gds(runner: CypherRunner, uri: str) -> str:
    """The server's GDS version, or an EngineError if it is missing or older than the client needs."""
    from graphdatascience.version import __min_server_version__
    from graphdatascience.version import __version__ as client_version

    try:
        rows = runner.run(q.GDS_VERSION, {}, read_only=True)
    except EngineError as exc:
        # Servers report the unknown function as a client error or a database error.
        if not isinstance(exc.__cause__, (ClientError, DatabaseError)):
            raise
        raise GdsMissing(
            f"Neo4j at {uri} has no Graph Data Science library (gds.version() is unknown); "
            f"ringwatch needs GDS >= {__min_server_version__}: install the plugin with "
            "NEO4J_PLUGINS='[\"graph-data-science\"]' (docker-compose.yml does this)"
        ) from None
    found = str(rows[0]["version"]) if rows else "unknown"
    if parse_version(found) < parse_version(__min_server_version__):
        raise EngineError(
            f"Neo4j at {uri} has Graph Data Science {found}; graphdatascience {client_version} needs "
            f"GDS >= {__min_server_version__}: upgrade the server to Neo4j 5.26 LTS or 2025.01+ "
            "(docker-compose.yml pins a supported image)"
        )
    return found


def _one_line(message: str, limit: int = 300) -> str:
    """A server's message on one line (some put the statement after a line break), cut to ``limit`` characters."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@functools.cache
def _statement_names() -> dict[str, str]:
    """Each named statement's name by its text."""
    return {text: name for name, text in q.all_queries().items()}


def _native(value):
    """Neo4j temporal values (also inside maps and lists) as Python datetimes; the rest unchanged."""
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native is not None else value


class CypherRunner:
    """Sends Cypher to Neo4j: inside the open unit of work if there is one, else as its own transaction."""

    def __init__(self, driver: neo4j.Driver, database: str | None = None):
        self._driver = driver
        self._database = database
        self._session = None
        self._tx = None

    def run(self, query: str, params: dict | None = None, *, read_only: bool = False) -> list[dict]:
        """Run one statement; rows as dicts."""
        params = params or {}
        try:
            if self._tx is not None:
                records = list(self._tx.run(query, params))
            else:
                routing = neo4j.RoutingControl.READ if read_only else neo4j.RoutingControl.WRITE
                records = self._driver.execute_query(query, params, database_=self._database,
                                                     routing_=routing).records
        except (Neo4jError, DriverError) as exc:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            # Name the statement, so an operator knows which step the server refused.
            name = _statement_names().get(query)
            raise EngineError(f"Neo4j{f' ({name})' if name else ''}: {_one_line(message)}") from exc
        return [{k: _native(v) for k, v in record.items()} for record in records]

    @property
    def in_transaction(self) -> bool:
        """True between begin() and commit()/rollback()."""
        return self._tx is not None

    def begin(self) -> None:
        """Open an explicit transaction that later runs join."""
        if self._tx is not None:
            raise EngineError("a unit of work is already open on this Neo4j engine")
        self._session = self._driver.session(database=self._database)
        self._tx = self._session.begin_transaction()

    def commit(self) -> None:
        """Commit the open transaction."""
        self._finish(commit=True)

    def rollback(self) -> None:
        """Roll the open transaction back."""
        self._finish(commit=False)

    def _finish(self, commit: bool) -> None:
        tx, session = self._tx, self._session
        self._tx = self._session = None
        if tx is None:
            return
        try:
            tx.commit() if commit else tx.rollback()
        except (Neo4jError, DriverError) as exc:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise EngineError(f"Neo4j: {_one_line(message)}") from exc
        finally:
            session.close()

    def close(self) -> None:
        """Roll back anything still open and close the driver."""
        try:
            self.rollback()
        finally:
            self._driver.close()


class GdsRunner:
    """The Graph Data Science calls: construct a projection, stream an algorithm, drop it.

    The client is created on first use (creating it queries the server) over the engine's
    own driver, without Arrow, so it needs nothing beyond the Bolt port.
    """

    def __init__(self, driver: neo4j.Driver, database: str | None = None):
        self._driver = driver
        self._database = database
        self._gds = None

    def _client(self):
        if self._gds is None:
            from graphdatascience import GraphDataScience

            self._gds = GraphDataScience(self._driver, database=self._database, arrow=False, show_progress=False)
        return self._gds

    def construct(self, name: str, nodes, relationships, undirected: tuple[str, ...] = ()):
        """Project a graph from DataFrames (nodeId/labels; sourceNodeId/targetNodeId/relationshipType/...)."""
        return self._client().graph.construct(
            name, nodes, relationships, undirected_relationship_types=list(undirected) or None
        )

    def stream(self, algorithm: str, graph, **config):
        """Stream one algorithm (wcc, leiden, node_similarity) over a projection; a DataFrame."""
        return getattr(self._client(), algorithm).stream(graph, **config)

    def drop(self, name: str) -> None:
        """Drop a projection if it exists."""
        self._client().graph.drop(name, fail_if_missing=False)

    def close(self) -> None:
        """Release the client (the driver belongs to the engine)."""
        if self._gds is not None:
            self._gds.close()
            self._gds = None
