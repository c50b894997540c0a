"""Clusters: connected components of the strong links, large ones split by seeded community detection.

Components are exact and independent of each other; a component of at least
``split_min_size`` accounts is split into communities (Louvain with refinement on the
embedded engine, Leiden on Graph Data Science) only when the split is clear: modularity of
at least ``split_min_modularity``. Groups are named after their smallest member, so names
never depend on an algorithm's numbering.
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
        if modularity >= params.split_min_modularity and groups["group"].nunique() > 1:
            comps.loc[mask, "cluster"] = comps.loc[mask, "account_id"].map(groups.set_index("account_id")["group"])
            log.info("split component of %d accounts into %d communities (modularity %.2f)",
                     mask.sum(), groups["group"].nunique(), modularity)
    return comps.sort_values(["cluster", "account_id"]).reset_index(drop=True)
