"""Graph algorithms in this process: connected components (SciPy) and seeded Louvain (networkit).

Every engine gets these unless it runs the algorithms next to its data (Neo4j's Graph Data
Science does): the pipeline hands over the strong links, never the whole store, so they
fit in memory on one machine even for a large store.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from .columns import GROUP_COLUMNS


def _networkit():
    """networkit, loaded on first use: it loads scikit-learn with it, seconds that every command
    without graph work (export, review, the dashboard's first page) would otherwise pay."""
    return importlib.import_module("networkit")


def numbered(edges: pd.DataFrame):
    """Account ids sorted (so numbering is stable) and each edge's two ends as positions in them."""
    ends = np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()])
    if ends.dtype.kind in "iu" and len(ends) and ends.min() >= 0 and ends.max() < 8 * len(ends):
        # Account numbers, dense among the ends (the whole graph's, not a component's few): a table as
        # long as the largest numbers them in two passes, where sorting the ends took eight times as
        # long at millions of links; the ids and positions are the same.
        present = np.zeros(int(ends.max()) + 1, dtype=bool)
        present[ends] = True
        ids, inverse = np.flatnonzero(present).astype(ends.dtype), (np.cumsum(present, dtype=np.int64) - 1)[ends]
    else:
        ids, inverse = np.unique(ends if ends.dtype.kind in "iu" else ends.astype(object), return_inverse=True)
    return ids, inverse[:len(edges)], inverse[len(edges):]


def build_graph(edges: pd.DataFrame):
    """Weighted undirected networkit graph from (a, b, weight); ids sorted so numbering is stable."""
    if edges.empty:
        return np.array([]), None
    ids, src, dst = numbered(edges)
    weight = edges["weight"].to_numpy(dtype=np.float64) if "weight" in edges else np.ones(len(edges))
    graph = _networkit().Graph(len(ids), weighted=True, directed=False)
    graph.addEdges((weight, (src.astype(np.uint64), dst.astype(np.uint64))))
    return ids, graph


def groups(ids: np.ndarray, membership: np.ndarray) -> pd.DataFrame:
    """Name each group after its smallest account id, so labels do not depend on the algorithm's numbering.

    ``ids`` are sorted (``numbered``), so a group's smallest member is its first position, and the rows
    are ordered by group and account on positions alone.
    """
    codes, labels = pd.factorize(np.asarray(membership))
    first = np.full(len(labels), len(ids), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(ids), dtype=np.int64))
    named = first[codes]
    order = np.lexsort((np.arange(len(ids)), named))
    return pd.DataFrame(dict(zip(GROUP_COLUMNS, (ids[order], ids[named[order]]))))


def empty_groups() -> pd.DataFrame:
    """No accounts, the group columns."""
    return pd.DataFrame({"account_id": [], "group": []})


def components(edges: pd.DataFrame) -> pd.DataFrame:
    """Weakly connected components of (a, b, weight) edges: account_id, group.

    Components are the same whoever finds them; SciPy's sparse-graph search finds them
    from the edge arrays directly, without building an adjacency structure first.
    """
    if edges.empty:
        return empty_groups()
    sparse = importlib.import_module("scipy.sparse")  # on first use, as networkit: half a second
    ids, src, dst = numbered(edges)
    matrix = sparse.coo_matrix((np.ones(len(src), dtype=np.float32), (src, dst)), shape=(len(ids), len(ids)))
    _, membership = importlib.import_module("scipy.sparse.csgraph").connected_components(matrix, directed=False)
    return groups(ids, membership)


def communities(edges: pd.DataFrame, seed: int, resolution: float) -> tuple[pd.DataFrame, float]:
    """Louvain with refinement (networkit PLM), seeded and on one thread so a run repeats exactly."""
    ids, graph = build_graph(edges)
    if graph is None:
        return empty_groups(), 0.0
    nk = _networkit()
    threads = nk.getMaxNumberOfThreads()
    nk.setNumberOfThreads(1)
    try:
        nk.engineering.setSeed(seed, False)
        plm = nk.community.PLM(graph, refine=True, gamma=resolution)
        plm.run()
        partition = plm.getPartition()
        modularity = nk.community.Modularity().getQuality(partition, graph)
    finally:
        nk.setNumberOfThreads(threads)
    return groups(ids, np.asarray(partition.getVector())), float(modularity)
