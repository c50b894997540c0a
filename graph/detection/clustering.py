"""Clusters: connected components of the strong links, large ones split by seeded community detection.

Components are exact and independent of each other; a component of at least
``split_min_size`` accounts is split into communities (Louvain with refinement on the
embedded engine, Leiden on Graph Data Science) when the split is clear: modularity of at
least ``split_min_modularity``. When it is not, each community is still judged on its own:
one whose links stay mostly inside it (conductance at most ``split_max_conductance``: the
weight of its links leaving it over the weight of all its links, Shi and Malik's cut
measure) is a group in its own right and leaves the component, so a camouflaged ring that
a few popular links glue to bystanders comes out whole, and the bystanders stay behind.
Groups are named after their smallest member, so names never depend on an algorithm's
numbering.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..engines import Engine
from .params import DetectionParams

log = logging.getLogger(__name__)


def clusters(engine: Engine, links: pd.DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Cluster accounts over strong links: account_id, cluster, component, split_modularity."""
    comps = engine.components(links)
    if comps.empty:
        return pd.DataFrame(columns=["account_id", "cluster", "component", "split_modularity"])
    comps = comps.rename(columns={"group": "component"}).sort_values(["component", "account_id"], ignore_index=True)
    members = _Slices(comps["component"].to_numpy())
    edges = _Slices(links["a"].map(comps.set_index("account_id")["component"]).to_numpy())
    account = comps["account_id"].to_numpy()
    cluster = comps["component"].to_numpy().copy()
    split_modularity = np.full(len(comps), np.nan)
    sizes = comps["component"].value_counts()
    large = sorted(sizes[sizes >= params.split_min_size].index)
    # Each large component's links, made as the engine asks for them (one at a time, unless it runs them together).
    subs = (links.iloc[edges.rows(comp)] for comp in large)
    for comp, (groups, modularity) in zip(large, engine.communities_of(subs, seed=params.seed,
                                                                      resolution=params.resolution)):
        rows = members.rows(comp)
        split_modularity[rows] = modularity
        if groups["group"].nunique() < 2:
            continue
        group_of = pd.Series(groups["group"].to_numpy(), index=groups["account_id"].to_numpy())
        community = group_of.reindex(account[rows]).to_numpy()
        if modularity >= params.split_min_modularity:
            cluster[rows] = community
            log.info("split component of %d accounts into %d communities (modularity %.2f)",
                     len(rows), groups["group"].nunique(), modularity)
            continue
        apart = separate_communities(links.iloc[edges.rows(comp)], group_of, params)
        if apart:
            moved = np.isin(community, apart)
            # The rest stays together, named after its smallest member.
            cluster[rows] = np.where(moved, community, account[rows][~moved].min() if (~moved).any() else comp)
            log.info("took %d well-separated communities out of a component of %d accounts (modularity %.2f)",
                     len(apart), len(rows), modularity)
    comps["cluster"], comps["split_modularity"] = cluster, split_modularity
    return comps.sort_values(["cluster", "account_id"]).reset_index(drop=True)[
        ["account_id", "cluster", "component", "split_modularity"]]


class _Slices:
    """Row positions of each label, in their original order, without a pass over every row per label."""

    def __init__(self, labels: np.ndarray):
        self.order = np.argsort(labels, kind="stable")
        self.sorted = labels[self.order]

    def rows(self, label) -> np.ndarray:
        lo, hi = np.searchsorted(self.sorted, label, "left"), np.searchsorted(self.sorted, label, "right")
        return self.order[lo:hi]


def conductance(edges: pd.DataFrame, group_of: pd.Series) -> pd.Series:
    """Per community: the weight of its links that leave it over the weight of all its links' ends in it."""
    n = len(edges)
    ends = np.concatenate([group_of.reindex(edges["a"]).to_numpy(), group_of.reindex(edges["b"]).to_numpy()])
    codes, names = pd.factorize(ends, sort=True)
    ga, gb = codes[:n], codes[n:]
    w = edges["weight"].to_numpy(dtype=float) if "weight" in edges else np.ones(n)
    volume = np.bincount(ga, w, minlength=len(names)) + np.bincount(gb, w, minlength=len(names))
    crossing = ga != gb
    cut = (np.bincount(ga[crossing], w[crossing], minlength=len(names))
           + np.bincount(gb[crossing], w[crossing], minlength=len(names)))
    return pd.Series(cut / np.maximum(volume, 1e-12), index=names)


def separate_communities(edges: pd.DataFrame, group_of: pd.Series, params: DetectionParams) -> list:
    """Communities of a component that stand on their own: at least ``min_ring_size`` accounts, conductance at most the cap."""
    sizes = group_of.value_counts()
    cond = conductance(edges, group_of)
    big = sizes.reindex(cond.index, fill_value=0).to_numpy() >= params.min_ring_size
    ok = cond[(cond.to_numpy() <= params.split_max_conductance) & big]
    return sorted(ok.index)
