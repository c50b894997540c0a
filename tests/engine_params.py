"""The Neo4j engine's test parameters: where it runs its graph algorithms.

``neo4j`` runs WCC, community detection and similarity in this process
(``RINGWATCH_NEO4J_ALGORITHMS=local``), so it needs a Bolt + Cypher server and nothing more;
``neo4j-gds`` runs them in Graph Data Science and is also marked ``gds``, so it is deselected,
with the reason printed, on a server without GDS. Only tests that run an algorithm take both.
"""

from __future__ import annotations

import pytest

NEO4J = pytest.param("neo4j", marks=pytest.mark.neo4j)
# The Spark engine in local mode: needs pyspark and Java (deselected, saying why, where either is missing).
SPARK = pytest.param("spark", marks=pytest.mark.spark)
NEO4J_GDS = pytest.param("neo4j-gds", marks=[pytest.mark.neo4j, pytest.mark.gds])
ALGORITHMS = {"neo4j": "local", "neo4j-gds": "gds"}


def registered(param: str) -> str:
    """The registered engine name behind a test parameter."""
    return "neo4j" if param in ALGORITHMS else param


def engine_name(param: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine to open for a test parameter; for Neo4j, also sets where its algorithms run."""
    if param in ALGORITHMS:
        monkeypatch.setenv("RINGWATCH_NEO4J_ALGORITHMS", ALGORITHMS[param])
    return registered(param)
