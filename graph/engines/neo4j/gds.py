"""Graph Data Science on projections built from DataFrames: components, Leiden, Node Similarity.

Each projection is a context manager with a unique ``ringwatch_`` name that is always
dropped, also when the algorithm fails. GDS numbers nodes itself; results are mapped back
to account ids (or account numbers) here, and groups are named by their smallest member as
every engine does (``engines.inprocess.groups``).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..errors import EngineError
from ..inprocess import empty_groups, groups, numbered
from ..policy import SimilarityPolicy

PROJECTION_PREFIX = "ringwatch_"


@contextmanager
def projection(gds, purpose: str, nodes: pd.DataFrame, relationships: pd.DataFrame, undirected=()):
    """A GDS graph built from DataFrames under a unique name, dropped when the block ends."""
    name = f"{PROJECTION_PREFIX}{purpose}_{uuid.uuid4().hex[:12]}"
    try:
        yield gds.construct(name, nodes, relationships, tuple(undirected))
    finally:
        gds.drop(name)


def _edge_projection(gds, purpose: str, edges: pd.DataFrame):
    """Number the edge ends (sorted ids) and project them as an undirected weighted graph."""
    # Numbered as ``inprocess.build_graph`` numbers them (account numbers stay numbers), so
    # groups are named after the same smallest member whichever engine ran the algorithm.
    ids, src, dst = numbered(edges)
    weight = edges["weight"].to_numpy(dtype=float) if "weight" in edges else np.ones(len(edges))
    nodes = pd.DataFrame({"nodeId": np.arange(len(ids), dtype=np.int64), "labels": "Account"})
    rels = pd.DataFrame({"sourceNodeId": src.astype(np.int64), "targetNodeId": dst.astype(np.int64),
                         "relationshipType": "LINK", "weight": weight})
    return ids, rels, projection(gds, purpose, nodes, rels, undirected=("LINK",))


def components(gds, edges: pd.DataFrame) -> pd.DataFrame:
    """Weakly connected components (GDS WCC): account_id, group."""
    if edges.empty:
        return empty_groups()
    ids, _, graph_block = _edge_projection(gds, "wcc", edges)
    with graph_block as graph:
        result = gds.stream("wcc", graph)
    return groups(ids, _by_node(result, "componentId", len(ids)))


def communities(gds, edges: pd.DataFrame, seed: int, resolution: float) -> tuple[pd.DataFrame, float]:
    """Leiden, seeded and on one thread so the run repeats; the modularity as networkit computes it."""
    if edges.empty:
        return empty_groups(), 0.0
    ids, rels, graph_block = _edge_projection(gds, "leiden", edges)
    with graph_block as graph:
        result = gds.stream("leiden", graph, random_seed=int(seed), gamma=float(resolution),
                            relationship_weight_property="weight", concurrency=1)
    membership = _by_node(result, "communityId", len(ids))
    return groups(ids, membership), modularity(rels, membership)


def node_similarity(gds, act: pd.DataFrame, policy: SimilarityPolicy) -> pd.DataFrame:
    """Node Similarity over activity rows (idx, fp, slot, weight): a, b, similarity, common."""
    empty = pd.DataFrame({"a": pd.Series(dtype="int32"), "b": pd.Series(dtype="int32"),
                          "similarity": pd.Series(dtype="float64"), "common": pd.Series(dtype="int64")})
    if act.empty:
        return empty
    act = act.assign(idx=act["idx"].astype(np.int64))
    # A usage row without a time never matches another account's bucket: its own node.
    slot = act["slot"].astype("string").fillna("none:" + act["idx"].astype("string"))
    act["activity"] = pd.factorize(act["fp"].astype("string") + "\x1f" + slot)[0] + int(act["idx"].max()) + 1
    accounts = act["idx"].drop_duplicates()
    nodes = pd.concat([
        pd.DataFrame({"nodeId": accounts.to_numpy(), "labels": "Account"}),
        pd.DataFrame({"nodeId": act["activity"].drop_duplicates().to_numpy(), "labels": "Activity"}),
    ], ignore_index=True)
    rels = pd.DataFrame({"sourceNodeId": act["idx"], "targetNodeId": act["activity"],
                         "relationshipType": "ACTED", "weight": act["weight"].astype(float)})
    with projection(gds, "similarity", nodes, rels) as graph:
        sim = gds.stream(
            "node_similarity", graph, top_k=int(policy.top_k), similarity_cutoff=max(float(policy.cutoff), 1e-42),
            degree_cutoff=max(int(policy.degree_cutoff), 1), relationship_weight_property="weight",
            similarity_metric="JACCARD",
        )
    if sim is None or sim.empty:
        return empty
    # The stream lists a pair from both ends (kept when in either account's top k).
    a = np.minimum(sim["node1"].to_numpy(), sim["node2"].to_numpy())
    b = np.maximum(sim["node1"].to_numpy(), sim["node2"].to_numpy())
    pairs = pd.DataFrame({"a": a, "b": b, "similarity": sim["similarity"].to_numpy(dtype=float)})
    pairs = pairs.drop_duplicates(["a", "b"])
    pairs = pairs[pairs["similarity"] >= policy.cutoff]
    pairs["common"] = _common_activity(act, pairs)
    pairs = pairs[pairs["common"] > 0]
    out = pairs.astype({"a": "int32", "b": "int32", "common": "int64"})
    return out.sort_values(["a", "b"]).reset_index(drop=True)


def modularity(rels: pd.DataFrame, membership: np.ndarray) -> float:
    """Weighted Newman modularity of a partition of an undirected graph (as networkit computes it)."""
    src, dst = rels["sourceNodeId"].to_numpy(), rels["targetNodeId"].to_numpy()
    w = rels["weight"].to_numpy(dtype=float)
    total = w.sum()
    if total <= 0:
        return 0.0
    comm_src, comm_dst = membership[src], membership[dst]
    inside = w[comm_src == comm_dst].sum()
    strength = np.bincount(np.concatenate([comm_src, comm_dst]), weights=np.concatenate([w, w]))
    return float(inside / total - ((strength / (2 * total)) ** 2).sum())


def _by_node(result: pd.DataFrame, column: str, n: int) -> np.ndarray:
    """Algorithm output (nodeId, column) as an array indexed by node id, communities renumbered 0..k-1."""
    out = np.full(n, -1, dtype=np.int64)
    out[result["nodeId"].to_numpy(dtype=np.int64)] = pd.factorize(result[column])[0]
    if (out < 0).any():
        raise EngineError("Graph Data Science returned no group for some nodes of the projection")
    return out


def _common_activity(act: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Activity nodes each pair shares (GDS streams only the similarity)."""
    if pairs.empty:
        return np.zeros(0, dtype=np.int64)
    slim = act[["idx", "activity"]]
    left = pairs[["a", "b"]].reset_index(drop=True).reset_index().merge(slim, left_on="a", right_on="idx")
    both = left.merge(slim, left_on=["b", "activity"], right_on=["idx", "activity"])
    counts = both.groupby("index").size()
    return counts.reindex(range(len(pairs)), fill_value=0).to_numpy(dtype=np.int64)
