"""A demo store worked by analysts on both sides of the review window: for the review, report and audit tests.

Inside the window (the last day of data): ``ann`` confirms ring A, with a note carrying an
injection payload, and a batch of ring A is banned. After the window (now, as an analyst
working last week's data today would): ``zed`` marks ring B a false positive and confirms
ring C with a spreadsheet formula as the note, and a batch of ring C is banned.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dashboard_store import FORMULA, SCRIPT, make_demo_store
from ringwatch.graph.casework import batches, decisions
from ringwatch.graph.engines import open_engine


def _stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ban(engine, analyst: str, ring: str, at: str | None) -> dict:
    batch = batches.propose(engine, analyst, rings=[ring], at=at)
    if batch["needs_approval"]:
        batches.approve(engine, batch["batch_id"], "bob", at=at)
    return batch


def make_worked_store(folder: Path) -> dict:
    """The demo store with the casework above; returns db, the rings A, B, C, the batches and the last usage time."""
    db = make_demo_store(folder)
    with open_engine("embedded", db) as engine:
        last = pd.Timestamp(pd.to_datetime(engine.usage_summary()["last_ts"]).max())
        rings = engine.results("rings")
        rings = rings[rings["flagged"]].sort_values(["risk_score", "ring_id"], ascending=[False, True])
        a, b, c = rings["ring_id"].iloc[:3]
        inside = _stamp(last.floor("D") + pd.Timedelta(hours=12))
        decisions.decide(engine, a, "confirmed_fraud", "ann", f"farm {SCRIPT}", at=inside)
        batch_a = _ban(engine, "ann", a, inside)
        decisions.decide(engine, b, "false_positive", "zed", "a university lab")
        decisions.decide(engine, c, "confirmed_fraud", "zed", FORMULA)
        batch_c = _ban(engine, "zed", c, None)
    return {"db": db, "a": a, "b": b, "c": c, "batch_a": batch_a, "batch_c": batch_c, "last": last}
