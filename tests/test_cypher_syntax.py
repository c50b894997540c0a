"""Every Cypher statement the project sends passes Neo4j's own parser and semantic analysis.

The checker is ``@neo4j-cypher/language-support`` (the library behind Neo4j's editors), run
by ``tests/cypher/check.mjs``. It needs Node.js and ``(cd tests/cypher && npm ci)``; when
they are missing this test fails, it does not skip: CI installs them.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import ringwatch.graph.engines.neo4j
from ringwatch.graph.engines.neo4j import queries as neo4j_queries

CHECKER = Path(__file__).parent / "cypher"
CYPHER_START = re.compile(r"^\s*(MATCH|OPTIONAL MATCH|UNWIND|MERGE|CREATE|CALL|RETURN|WITH)\b")


def project_cypher() -> dict[str, str]:
    """Every upper-case string constant that reads as Cypher in the Neo4j engine's modules."""
    found = dict(neo4j_queries.all_queries())
    for info in pkgutil.iter_modules(ringwatch.graph.engines.neo4j.__path__):
        module = importlib.import_module(f"ringwatch.graph.engines.neo4j.{info.name}")
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and CYPHER_START.match(value):
                found.setdefault(f"{info.name}.{name}", value)
    return found


def run_checker(queries: dict[str, str], language: str) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: the Cypher check needs `node` (and `npm ci` in tests/cypher)")
    if not (CHECKER / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        pytest.fail("the Cypher parser is not installed: run `(cd tests/cypher && npm ci)`")
    payload = {
        "labels": list(neo4j_queries.LABELS),
        "relationshipTypes": list(neo4j_queries.RELATIONSHIP_TYPES),
        "language": language,
        "queries": [{"name": k, "query": v} for k, v in queries.items()],
    }
    proc = subprocess.run([node, str(CHECKER / "check.mjs")], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.fail(f"the Cypher checker failed to run: {proc.stderr.strip()[:2000]}")
    return json.loads(proc.stdout)


def test_every_query_is_collected():
    queries = project_cypher()
    # schema statements, loading, reading, graph questions, results: all of them
    assert len(queries) >= 40
    assert "PAIR_EVIDENCE" in queries and "SCHEMA[0]" in queries


@pytest.mark.parametrize("language", ["CYPHER 5", "CYPHER 25"])
def test_cypher_is_valid(language):
    report = run_checker(project_cypher(), language)
    problems = {r["name"]: [d["message"] for d in r["diagnostics"]] for r in report if r["diagnostics"]}
    assert problems == {}


def test_the_checker_catches_mistakes():
    bad = {"typo": "MATCH (a:Account) RETRUN a", "unbound": "MATCH (a:Account) RETURN b",
           "label": "MATCH (a:Acount) RETURN a"}
    report = {r["name"]: r["diagnostics"] for r in run_checker(bad, "CYPHER 5")}
    assert all(report[name] for name in bad), report
