"""A demo scenario loaded into an embedded store on disk, for tests that copy or read it."""

from __future__ import annotations

import shutil
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


def private_copy(store: Path, folder: Path, monkeypatch) -> Path:
    """A copy of ``store`` in ``folder`` for a test to write to, acting with no analyst or audit key from the environment."""
    copy = folder / "store.duckdb"
    shutil.copy(store, copy)
    monkeypatch.delenv("RINGWATCH_ANALYST", raising=False)
    monkeypatch.delenv("RINGWATCH_AUDIT_KEY", raising=False)
    return copy
