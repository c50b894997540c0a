"""A demo scenario loaded into an embedded store on disk, for tests that copy or read it."""

from __future__ import annotations

from pathlib import Path

from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.scenarios.generate import generate


def scenario_store(folder: Path, accounts: int, seed: int, detected: bool = False) -> Path:
    """Generate the demo scenario in ``folder``, ingest signups and usage (and detect, if asked); the store's path."""
    files = generate(folder / "data", accounts=accounts, seed=seed)
    db = folder / "store.duckdb"
    with open_engine("embedded", db) as engine:
        ingest(engine, signups=files.signups, usage=files.usage)
        if detected:
            detect(engine)
    return db
