"""The dashboard on the Neo4j engine, in a real browser, against the live Bolt server.

`ringwatch demo --engine neo4j` fills the server's database (algorithms in this process),
`ringwatch dashboard --engine neo4j` serves it, and Chromium opens the Rings page and one
ring's network: every figure shown comes from the server's stored results.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from browser_support import WAIT_MS, ringwatch, serve_dashboard
from browser_support import plot_ready as _plot_ready
from browser_support import settled as _settled
from browser_support import shot as _shot
from ringwatch.graph.engines import open_engine

pytestmark = [pytest.mark.browser, pytest.mark.neo4j]

ACCOUNTS = 1500


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-neo4j")
    env = {**os.environ, "RINGWATCH_NEO4J_ALGORITHMS": "local", "RINGWATCH_ANALYST": "browser-test"}
    done = subprocess.run([*ringwatch(), "demo", "--engine", "neo4j", "--accounts", str(ACCOUNTS),
                           "--out", str(folder / "demo")], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "store on the neo4j server" in done.stdout
    with open_engine("neo4j", None) as engine:
        rings = engine.results("rings")
    flagged = rings[rings["flagged"]]
    top = flagged.sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]
    with serve_dashboard(folder / "unused.duckdb", folder, "--engine", "neo4j", env=env) as url:
        yield {"url": url, "rings": len(flagged), "top": top["ring_id"], "top_size": int(top["size"])}


def test_rings_page_on_the_neo4j_engine(served, page):
    assert served["rings"] >= 3  # the demo's planted rings were found on the server
    page.goto(f"{served['url']}/rings?ring={served['top']}")
    page.get_by_role("heading", name="Rings").first.wait_for(timeout=WAIT_MS)
    _plot_ready(page, "ring_network", served["top"])
    _settled(page)
    _shot(page, "rings-neo4j")
    caption = f"{served['rings']:,} of {served['rings']:,} groups match"
    assert page.get_by_text(caption).count() == 1
    accounts = page.get_by_test_id("stMetric").filter(has_text="Accounts").first.inner_text()
    assert accounts.endswith(f"{served['top_size']:,}")
    assert page.get_by_test_id("stException").count() == 0
    assert page.dialogs == []
