"""Scenario families: differently built worlds to judge detection on, each with ground truth.

The demo generator is one scenario among several. Each family here is written as its own
module with its own rates, sizes and mixes, and writes the same contract files a customer
would hand over: ``signups`` (always), ``usage`` (when the family has traffic) and
``labels`` with ground truth. Detection is judged on all of them with the same weights and
thresholds (``bench/quality.py``); nothing may be tuned per family.

Labels carry, besides ``account_id, label, ring_id``:

- ``scenario``: what kind of account or group it is (``household``, ``fan_community``,
  ``synthetic_identity``, ...), for reading results;
- ``group_id``: the legitimate group an honest account belongs to (a household, an office,
  a fan community), empty for loners, so the harness can count legitimate groups flagged.

A family module exposes ``FAMILY`` (its name), ``IDENTIFIERS`` (the ``--identifier``
declarations its extra signup columns need, ``COLUMN`` or ``COLUMN:CLASS``) and
``generate(out_dir, *, accounts, seed) -> FamilyFiles``; the same arguments give the same
bytes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Family name -> module (imported when used).
FAMILIES = {
    "demo": "ringwatch.scenarios.demo_family",
    "distillation": "ringwatch.scenarios.distillation",
    "identity": "ringwatch.scenarios.identity",
    "social": "ringwatch.scenarios.social",
    "signup_log": "ringwatch.scenarios.signup_log",
}
LABEL_COLUMNS = ["account_id", "label", "ring_id", "scenario", "group_id"]


@dataclass
class FamilyFiles:
    """What a family wrote: file paths, the identifier declarations to ingest with, and counts."""

    signups: Path
    labels: Path
    usage: Path | None = None
    identifiers: tuple[str, ...] = ()
    counts: dict = field(default_factory=dict)


def family(name: str):
    """The module of a scenario family by name."""
    if name not in FAMILIES:
        raise ValueError(f"unknown scenario family {name!r}; families: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[name])


def ring_labels(account_id, ring, scenario, group) -> pd.DataFrame:
    """Labels from per-account arrays: ring numbers (-1 for honest accounts) become ids ``ring-0001``, ...

    Rings are numbered in order of first appearance, so the ids follow the files' row order.
    """
    ring = np.asarray(ring)
    fraud = ring >= 0
    ring_id = np.full(len(ring), None, dtype=object)
    ring_id[fraud] = [f"ring-{c:04d}" for c in pd.factorize(ring[fraud])[0] + 1]
    return pd.DataFrame({"account_id": account_id, "label": np.where(fraud, "fraud", "legit").astype(object),
                         "ring_id": ring_id, "scenario": scenario, "group_id": group})


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a frame as Parquet, deterministically (no pandas index, no write time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def write_family(out_dir, signups: pd.DataFrame, labels: pd.DataFrame, usage: pd.DataFrame | None = None,
                 identifiers: tuple[str, ...] = ()) -> FamilyFiles:
    """Write a family's frames as ``signups.parquet``, ``usage.parquet`` and ``labels.parquet`` in ``out_dir``."""
    out = Path(out_dir)
    missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lack {', '.join(missing)}")
    fraud = labels["label"] == "fraud"
    counts = {"accounts": len(signups), "fraud_accounts": int(fraud.sum()),
              "rings": int(labels.loc[fraud, "ring_id"].nunique()),
              "legit_groups": int(labels.loc[~fraud, "group_id"].nunique()),
              "usage_rows": 0 if usage is None else len(usage)}
    return FamilyFiles(
        signups=write_table(signups, out / "signups.parquet"),
        labels=write_table(labels[LABEL_COLUMNS], out / "labels.parquet"),
        usage=None if usage is None else write_table(usage, out / "usage.parquet"),
        identifiers=tuple(identifiers), counts=counts,
    )
