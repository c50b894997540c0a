"""Every Cypher statement the project sends passes Neo4j's own parser and semantic analysis.

The checker is ``@neo4j-cypher/language-support`` (the library behind Neo4j's editors), run
by ``tests/cypher/check.mjs`` with Node.js. The first run installs it with ``npm ci`` (the
version ``tests/cypher/package-lock.json`` pins) and later runs reuse ``node_modules``; without
Node.js or npm these tests skip, and the reason is printed.
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


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js, with Neo4j's Cypher parser installed in tests/cypher (by `npm ci` the first time)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the Cypher check runs Neo4j's parser with `node`")
    if not (CHECKER / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: it installs Neo4j's Cypher parser into tests/cypher")
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CHECKER, capture_output=True, text=True,
                              timeout=900, check=False)
        if proc.returncode != 0:
            pytest.fail(f"`npm ci` in tests/cypher failed: {proc.stderr.strip()[-2000:]}")
    return node


def run_checker(node: str, queries: dict[str, str], language: str) -> list[dict]:
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
def test_cypher_is_valid(node, language):
    report = run_checker(node, project_cypher(), language)
    problems = {r["name"]: [d["message"] for d in r["diagnostics"]] for r in report if r["diagnostics"]}
    assert problems == {}


def test_the_checker_catches_mistakes(node):
    bad = {"typo": "MATCH (a:Account) RETRUN a", "unbound": "MATCH (a:Account) RETURN b",
           "label": "MATCH (a:Acount) RETURN a"}
    report = {r["name"]: r["diagnostics"] for r in run_checker(node, bad, "CYPHER 5")}
    assert all(report[name] for name in bad), report
