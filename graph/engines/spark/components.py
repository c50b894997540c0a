"""Connected components in Spark SQL: large-star and small-star rounds until every component is a star.

Nodes are numbers 0..n-1; each component is named after its least node (``sql.LARGE_STAR``,
``sql.SMALL_STAR``). Each round's edges are checkpointed, so a long run of rounds does not
grow one plan; the rounds are logarithmic in the number of nodes, and a graph that has not
become stars after ``MAX_ROUNDS`` is an error, never a silent partial answer.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import EngineError
from . import sql

MAX_ROUNDS = 64


def components(edges, nodes: int, run, collect) -> np.ndarray:
    """Each node's component (its least node) for ``edges`` (u, v) over ``nodes`` nodes. ``run`` plans a statement
    over named DataFrames and ``collect`` returns its rows as pandas (the engine's, which reports Spark's errors as
    the engine's)."""
    current = edges.localCheckpoint()
    bound = max(MAX_ROUNDS, 4 * math.ceil(math.log2(max(nodes, 2))))
    for _ in range(bound):
        current = run(sql.LARGE_STAR, edges=current).localCheckpoint()
        current = run(sql.SMALL_STAR, edges=current).localCheckpoint()
        if int(collect(sql.NOT_STARS, edges=current)["left_over"].iloc[0]) == 0:
            break
    else:
        raise EngineError(f"connected components: {nodes:,} nodes are not stars after {bound} rounds")
    star = collect("SELECT u, v FROM {edges}", edges=current)
    root = np.arange(nodes, dtype=np.int64)
    root[star["u"].to_numpy(dtype=np.int64)] = star["v"].to_numpy(dtype=np.int64)
    return root
