"""The Graph Data Science calls answered in this process, for a Neo4j server without GDS.

``LocalRunner`` has ``GdsRunner``'s three methods (construct a projection from DataFrames,
stream an algorithm over it, drop it), so ``gds`` runs unchanged on top of it. The
algorithms are the embedded engine's own: connected components and seeded Louvain from
``engines.inprocess`` (networkit), and co-activity similarity from the embedded engine's SQL
(``embedded.sql``'s pair query) on an in-memory DuckDB under ringwatch's memory limit. Same
parameters and seeds give the embedded engine's groups, so rings match across engines. Only
the strong links and the activity rows travel; the store stays on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import inprocess
from ..embedded import files, sql


@dataclass
class _Projection:
    name: str
    nodes: pd.DataFrame
    relationships: pd.DataFrame


class LocalRunner:
    """Projections kept as DataFrames; wcc, leiden (seeded Louvain, as the embedded engine) and node_similarity."""

    def __init__(self) -> None:
        self._graphs: dict[str, _Projection] = {}

    def construct(self, name: str, nodes: pd.DataFrame, relationships: pd.DataFrame, undirected: tuple[str, ...] = ()):
        graph = _Projection(name, nodes, relationships)
        self._graphs[name] = graph
        return graph

    def stream(self, algorithm: str, graph: _Projection, **config) -> pd.DataFrame:
        if algorithm == "wcc":
            return _by_node(inprocess.components(_edges(graph)), "componentId")
        if algorithm == "leiden":
            found, _ = inprocess.communities(_edges(graph), int(config["random_seed"]), float(config["gamma"]))
            return _by_node(found, "communityId")
        if algorithm == "node_similarity":
            return _similarity(graph, config)
        raise ValueError(f"no local implementation of {algorithm}")

    def drop(self, name: str) -> None:
        self._graphs.pop(name, None)

    def close(self) -> None:
        self._graphs.clear()


def _edges(graph: _Projection) -> pd.DataFrame:
    rels = graph.relationships
    return pd.DataFrame({"a": rels["sourceNodeId"].to_numpy(), "b": rels["targetNodeId"].to_numpy(),
                         "weight": rels["weight"].to_numpy(dtype=float)})


def _by_node(found: pd.DataFrame, column: str) -> pd.DataFrame:
    """inprocess groups (account_id = node id, group) as GDS streams them: nodeId and the group's id."""
    return pd.DataFrame({"nodeId": found["account_id"].to_numpy(), column: found["group"].to_numpy()})


def _similarity(graph: _Projection, config: dict) -> pd.DataFrame:
    """Weighted Jaccard over account -> activity relationships, with the embedded engine's cutoffs and top-k."""
    rels = graph.relationships
    act = pd.DataFrame({"idx": rels["sourceNodeId"].to_numpy(), "fp": rels["targetNodeId"].to_numpy(),
                        "bucket": 0, "w": rels["weight"].to_numpy(dtype=float)})
    params = {"degree_cutoff": int(config["degree_cutoff"]), "cutoff": float(config["similarity_cutoff"]),
              "top_k": int(config["top_k"])}
    with files.scratch() as con:
        con.register("act", act)
        pairs = con.execute(sql.SIMILARITY_PAIRS, params).df()
    return pd.DataFrame({"node1": pairs["a"].to_numpy(), "node2": pairs["b"].to_numpy(),
                         "similarity": pairs["similarity"].to_numpy(dtype=float)})
