"""From shared identifiers and co-activity to strong account links, then to clusters.

A raw "shares an identifier" projection glues rings to bystanders through hubs and
legitimate sharing. So links here are multi-evidence: every shared identifier value is
weighted by its rarity (an IDF weight), hubs are suppressed, co-activity comes from
SynchroTrap-style similarity of actions in time windows (Cao et al., CCS 2014; lockstep
behaviour as in CopyCatch, Beutel et al., WWW 2013), and a pair of accounts is linked only
with enough evidence from at least two independent families — or with lockstep behaviour.
Connected components of the strong links are candidate clusters; large ones are split by
seeded Louvain when the split is clear (high modularity).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..engines.base import Engine
from .params import DetectionParams, kind_info

log = logging.getLogger(__name__)


def rarity(degree: np.ndarray | pd.Series, total_accounts: int) -> np.ndarray:
    """IDF-style weight in [0, 1]: 1 for a value shared by two accounts, falling as it spreads."""
    total = max(int(total_accounts), 3)
    deg = np.maximum(np.asarray(degree, dtype=float), 2.0)
    return np.clip(np.log(total / deg) / np.log(total / 2.0), 0.0, 1.0)


def kind_table(kinds: list[str]) -> pd.DataFrame:
    """kind, family, weight for every kind the graph links on."""
    names = sorted(set(kinds) | {"request_ip", "prompt"})
    info = [kind_info(k) for k in names]
    return pd.DataFrame({"kind": names, "family": [i.family for i in info], "weight": [i.weight for i in info]})


def pair_evidence(engine: Engine, params: DetectionParams, total_accounts: int) -> pd.DataFrame:
    """Evidence between account pairs, one row per (a, b, family): score, shared, similarity."""
    behaviour = kind_info("prompt").family
    similar = engine.node_similarity(
        bucket_minutes=params.bucket_minutes,
        max_degree=params.hub_cap,
        top_k=params.similarity_top_k,
        similarity_cutoff=params.similarity_cutoff,
        degree_cutoff=params.similarity_degree_cutoff,
    )
    shared = engine.pair_evidence(
        kinds=kind_table(engine.identifier_kinds()),
        hub_cap=params.hub_cap,
        pair_cap=params.pair_cap,
        anchors=params.anchors,
        total_accounts=total_accounts,
        # Identifier evidence alone must pass the link rule, unless co-activity adds to it.
        min_total=params.link_threshold,
        alone_family=behaviour,
        alone_score=params.behaviour_alone,
        keep_pairs=similar,
    )
    coact = pd.DataFrame({
        "a": similar["a"].to_numpy(), "b": similar["b"].to_numpy(), "family": "coactivity",
        "score": np.minimum(1.0, 2.0 * similar["similarity"].to_numpy()),
        "shared": similar["common"].to_numpy(), "similarity": similar["similarity"].to_numpy(),
    })
    shared["similarity"] = np.nan
    out = pd.concat([shared, coact], ignore_index=True)
    out["family"] = out["family"].astype("category")
    return out


def strong_links(evidence: pd.DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Pairs with enough independent evidence: a, b, weight, families, lockstep."""
    if evidence.empty:
        return pd.DataFrame(columns=["a", "b", "weight", "families", "lockstep"])
    ev = evidence.copy()
    # Co-activity is behaviour too: it joins the behaviour family for the two-family rule.
    behaviour = kind_info("prompt").family
    ev["family"] = ev["family"].where(ev["family"] != "coactivity", behaviour)
    fam = ev.groupby(["a", "b", "family"], sort=False)["score"].sum().reset_index()
    # Behaviour alone links when it is overwhelming (many rare templates in common);
    # other families need a second, independent one.
    alone = fam[(fam["family"] == behaviour) & (fam["score"] >= params.behaviour_alone)].set_index(["a", "b"]).index
    fam["score"] = fam["score"].clip(upper=1.0)
    fam = fam[fam["score"] >= 0.2]
    per_pair = fam.groupby(["a", "b"], sort=False).agg(weight=("score", "sum"), families=("family", "size"))
    coact = evidence[evidence["family"] == "coactivity"].set_index(["a", "b"])
    lockstep = (coact["similarity"] >= params.lockstep_similarity) & (coact["shared"] >= params.lockstep_common)
    per_pair["lockstep"] = lockstep.reindex(per_pair.index, fill_value=False).astype(bool) | per_pair.index.isin(alone)
    keep = (
        (per_pair["weight"] >= params.link_threshold) & (per_pair["families"] >= params.min_families)
    ) | per_pair["lockstep"]
    out = per_pair[keep].reset_index()
    return out.sort_values(["a", "b"]).reset_index(drop=True)


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
