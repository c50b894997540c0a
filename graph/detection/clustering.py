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
    comps = comps.rename(columns={"group": "component"})
    comps["cluster"] = comps["component"]
    comps["split_modularity"] = np.nan
    sizes = comps["component"].value_counts()
    large = sorted(sizes[sizes >= params.split_min_size].index)
    where = comps.set_index("account_id")["component"]
    for comp in large:
        sub = links[links["a"].map(where).eq(comp)]
        groups, modularity = engine.communities(sub, seed=params.seed, resolution=params.resolution)
        mask = comps["component"].eq(comp)
        comps.loc[mask, "split_modularity"] = modularity
        if groups["group"].nunique() < 2:
            continue
        group_of = groups.set_index("account_id")["group"]
        if modularity >= params.split_min_modularity:
            comps.loc[mask, "cluster"] = comps.loc[mask, "account_id"].map(group_of)
            log.info("split component of %d accounts into %d communities (modularity %.2f)",
                     mask.sum(), groups["group"].nunique(), modularity)
            continue
        apart = separate_communities(sub, group_of, params)
        if apart:
            moved = mask & comps["account_id"].map(group_of).isin(apart)
            comps.loc[moved, "cluster"] = comps.loc[moved, "account_id"].map(group_of)
            rest = mask & ~moved
            if rest.any():
                comps.loc[rest, "cluster"] = comps.loc[rest, "account_id"].min()
            log.info("took %d well-separated communities out of a component of %d accounts (modularity %.2f)",
                     len(apart), mask.sum(), modularity)
    return comps.sort_values(["cluster", "account_id"]).reset_index(drop=True)


def conductance(edges: pd.DataFrame, group_of: pd.Series) -> pd.Series:
    """Per community: the weight of its links that leave it over the weight of all its links' ends in it."""
    ga, gb = edges["a"].map(group_of), edges["b"].map(group_of)
    w = edges["weight"].astype(float) if "weight" in edges else pd.Series(1.0, index=edges.index)
    volume = pd.concat([w.groupby(ga).sum(), w.groupby(gb).sum()]).groupby(level=0).sum()
    crossing = ga != gb
    cut = pd.concat([w[crossing].groupby(ga[crossing]).sum(), w[crossing].groupby(gb[crossing]).sum()])
    cut = cut.groupby(level=0).sum().reindex(volume.index, fill_value=0.0)
    return (cut / volume.clip(lower=1e-12)).sort_index()


def separate_communities(edges: pd.DataFrame, group_of: pd.Series, params: DetectionParams) -> list:
    """Communities of a component that stand on their own: at least ``min_ring_size`` accounts, conductance at most the cap."""
    sizes = group_of.value_counts()
    cond = conductance(edges, group_of)
    big = sizes.reindex(cond.index, fill_value=0).to_numpy() >= params.min_ring_size
    ok = cond[(cond.to_numpy() <= params.split_max_conductance) & big]
    return sorted(ok.index)
