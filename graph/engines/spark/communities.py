"""Community detection inside large components on Spark's workers, each component a task of its own.

Components share no account, so each is split on its own: the pipeline hands over every large
component's strong links at once, Spark groups them by component and runs the embedded
engine's seeded Louvain (``inprocess.communities``) on each where a worker is free, so the
communities are the embedded engine's, found side by side. Frames cross as Arrow tables
(``applyInArrow``). The workers must have ringwatch installed (in local mode they are this
machine's Python).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import inprocess

SCHEMA = "part INT, account_id BIGINT, `group` BIGINT, modularity DOUBLE"


def split(key, table: pa.Table, *, seed: int, resolution: float) -> pa.Table:
    """One component's (part, a, b, weight) rows: its communities, as ``inprocess.communities`` finds them."""
    edges = table.select(["a", "b", "weight"]).to_pandas()
    groups, modularity = inprocess.communities(edges, seed, resolution)
    part = key[0].as_py() if hasattr(key[0], "as_py") else key[0]
    return pa.table({"part": pa.array(np.full(len(groups), part, dtype=np.int32)),
                     "account_id": pa.array(groups["account_id"].to_numpy(dtype=np.int64)),
                     "group": pa.array(groups["group"].to_numpy(dtype=np.int64)),
                     "modularity": pa.array(np.full(len(groups), modularity))})


def _splitter(seed: int, resolution: float):
    """``split`` for these parameters, as a plain function of (key, table): PySpark reads a function's type hints to
    tell its kind, and fails on a ``functools.partial``, which has no signature of its own to read."""
    def split_one(key, table):
        return split(key, table, seed=seed, resolution=resolution)
    return split_one


def communities_of(to_spark, collect, graphs: list[pd.DataFrame], seed: int, resolution: float) -> list:
    """(groups, modularity) of each graph, in order; graphs of account numbers. ``to_spark`` makes a Spark
    DataFrame of an Arrow table and ``collect`` brings a DataFrame's rows back as pandas (the engine's)."""
    tables = [pa.table({"part": pa.array(np.full(len(g), i, dtype=np.int32)),
                        "a": pa.array(g["a"].to_numpy(dtype=np.int64)), "b": pa.array(g["b"].to_numpy(dtype=np.int64)),
                        "weight": pa.array(g["weight"].to_numpy(dtype=np.float64) if "weight" in g else np.ones(len(g)))})
              for i, g in enumerate(graphs)]
    with warnings.catch_warnings():  # PySpark's warning about pandas 3: these frames cross as Arrow, not pandas
        warnings.simplefilter("ignore", FutureWarning)
        rows = to_spark(pa.concat_tables(tables)).groupBy("part").applyInArrow(
            _splitter(int(seed), float(resolution)), SCHEMA)
    found = collect(rows).sort_values(["part", "group", "account_id"], kind="stable")
    by_part = dict(iter(found.groupby("part", sort=True)))
    out = []
    for i, graph in enumerate(graphs):
        mine = by_part.get(i)
        if mine is None:
            out.append((inprocess.empty_groups(), 0.0))
            continue
        dtype = graph["a"].dtype
        groups = pd.DataFrame({"account_id": mine["account_id"].to_numpy().astype(dtype),
                               "group": mine["group"].to_numpy().astype(dtype)})
        out.append((groups, float(mine["modularity"].iloc[0])))
    return out
