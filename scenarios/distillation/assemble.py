"""Assembling the distillation world: labels, account ids and ``generate``, which writes the files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..families import FamilyFiles, write_family
from .params import FAMILY, GROUPS, IDENTIFIERS, K, KINDS_ARR, MIN_ACCOUNTS, RINGS, Params
from .signups import _signups
from .usage import _usage
from .values import _HEX, _chars
from .world import World, _plan


def _labels(rng, w: World) -> pd.DataFrame:
    """Ground truth: fraud or legit, the ring, the kind of account and its honest group."""
    nu = len(w.unit_kind)
    ring = np.isin(w.unit_kind, [K[x] for x in RINGS])
    group = np.isin(w.unit_kind, [K[x] for x in GROUPS])
    names = np.full(nu, None, dtype=object)
    # Ring numbers are shuffled so that they say nothing about the ring's type.
    rings = np.flatnonzero(ring)
    names[rings[rng.permutation(len(rings))]] = [f"ring-{i + 1:04d}" for i in range(len(rings))]
    for kind in GROUPS:
        units = np.flatnonzero(w.unit_kind == K[kind])
        names[units] = [f"{kind}-{i + 1:04d}" for i in range(len(units))]
    name = names[w.acc_unit]
    fraud = ring[w.acc_unit]
    return pd.DataFrame({"account_id": w.ids, "label": np.where(fraud, "fraud", "legit"),
                         "ring_id": np.where(fraud, name, None), "scenario": KINDS_ARR[w.acc_kind],
                         "group_id": np.where(group[w.acc_unit], name, None)})


def _account_ids(rng, n: int) -> np.ndarray:
    """Random, unique `acct_` keys (nothing in them follows the unit or the signup order)."""
    ids = "acct_" + _chars(rng, n, 16, _HEX)
    while len(set(ids)) < n:
        ids = "acct_" + _chars(rng, n, 16, _HEX)
    return ids


def generate(out_dir, *, accounts: int, seed: int, params: Params | None = None) -> FamilyFiles:
    """Write the distillation world's ``signups``, ``usage`` and ``labels`` (Parquet) to ``out_dir``."""
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"the {FAMILY} family needs at least {MIN_ACCOUNTS} accounts, got {accounts}")
    p = params or Params()
    rng = np.random.default_rng(seed)
    w = _plan(rng, p, accounts)
    w.ids = _account_ids(rng, accounts)
    order = np.argsort(w.ids.astype(str), kind="stable")
    w.rank = np.empty(accounts, dtype=np.int64)
    w.rank[order] = np.arange(accounts)
    signups = _signups(rng, p, w)
    signups.insert(0, "account_id", w.ids)
    usage = _usage(rng, p, w)
    labels = _labels(rng, w)
    return write_family(out_dir, signups.iloc[order].reset_index(drop=True),
                        labels.iloc[order].reset_index(drop=True), usage, IDENTIFIERS)
