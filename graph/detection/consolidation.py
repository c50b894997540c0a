"""Consolidation: flagged fragments of one operation become one ring.

A camouflaged ring (unique cards, a few VoIP numbers, a proxy pool) has too little shared
identity for the strong-link step to hold it together, so it comes out as many small
flagged clusters. Its members still send the ring's own narrow prompt templates, which
almost nobody outside the ring uses; legitimate groups share only popular SDK templates.

After the first scoring, flagged clusters are compared by the rare templates they use:

- a template is *rare ring evidence* when at least two accounts use it, it is not popular
  (at most ``merge_max_template_accounts`` accounts) and most of its accounts sit in flagged clusters
  (at most ``merge_max_outside`` of them elsewhere);
- each flagged cluster gets a profile over those templates, weighted by the template's
  rarity (the IDF weight of the linking step) times the share of members using it;
- two flagged clusters are linked when they share at least ``merge_min_templates`` such
  templates and their profiles' weighted Jaccard similarity is at least
  ``merge_min_similarity`` (most of both groups' rare behaviour is the same);
- connected components of those links are merged, the merged group is scored with the
  same features and weights, and the merge is kept only when the group still scores as a
  ring (otherwise the fragments stay as they were).

Only flagged clusters take part, so no account outside a flagged ring joins one. Every
step is a sort or a group-by on values, so the result never depends on input order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engines import rarity
from .features import FEATURES, Baselines, all_cluster_features
from .params import DetectionParams
from .scoring import PRIOR, Model, ring_risk


@dataclass(frozen=True)
class Merge:
    """Flagged clusters joined into one ring, and the shared rare templates that justify it."""

    clusters: tuple[str, ...]
    templates: tuple[str, ...]
    users: tuple[int, ...]  # members of the merged ring using each template
    accounts: tuple[int, ...]  # accounts using each template across the store

    @property
    def outside(self) -> int:
        """The most accounts outside the ring that use any one of the templates."""
        return max(a - u for a, u in zip(self.accounts, self.users))

    def sentence(self) -> str:
        """The merge in words, for the ring's explanation."""
        shown = ", ".join(self.templates[:3]) + (", ..." if len(self.templates) > 3 else "")
        others = ("used by no other account" if self.outside == 0
                  else f"used by at most {self.outside} accounts outside this ring")
        return (f"joined from {len(self.clusters)} linked groups that share {len(self.templates)} "
                f"rare prompt templates ({shown}) {others}")


def template_profile(activity: pd.DataFrame, sizes: pd.Series, flagged: set, prompt_accounts: pd.Series,
                     total: int, params: DetectionParams) -> pd.DataFrame:
    """Per flagged cluster and rare ring template: users, accounts overall and profile weight.

    Args:
        activity: member usage rows (account_id, prompt_fingerprint, cluster).
        sizes: members per cluster.
        flagged: keys of the flagged clusters.
        prompt_accounts: accounts per prompt fingerprint across the whole store, by fingerprint.
    """
    act = activity[activity["cluster"].isin(flagged)].dropna(subset=["prompt_fingerprint"])
    use = (act.groupby(["cluster", "prompt_fingerprint"])["account_id"].nunique().rename("users").reset_index())
    use["accounts"] = use["prompt_fingerprint"].map(prompt_accounts).fillna(use["users"]).astype(np.int64)
    inside = use.groupby("prompt_fingerprint")["users"].transform("sum")
    outside = (use["accounts"] - inside).clip(lower=0)
    rare = ((use["accounts"] >= 2) & (use["accounts"] <= params.merge_max_template_accounts)
            & (outside <= params.merge_max_outside * use["accounts"]))
    use = use[rare].assign(outside=outside[rare])
    use["weight"] = rarity(use["accounts"], total) * use["users"] / use["cluster"].map(sizes).to_numpy()
    return use.sort_values(["cluster", "prompt_fingerprint"]).reset_index(drop=True)


def fragment_links(profile: pd.DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Pairs of flagged clusters (a < b) whose rare-template profiles say one operation."""
    cols = ["a", "b", "shared", "similarity"]
    if profile.empty:
        return pd.DataFrame(columns=cols)
    p = profile[["cluster", "prompt_fingerprint", "weight"]]
    pairs = p.merge(p, on="prompt_fingerprint", suffixes=("_a", "_b"))
    pairs = pairs[pairs["cluster_a"] < pairs["cluster_b"]]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    pairs = pairs.assign(low=np.minimum(pairs["weight_a"], pairs["weight_b"]))
    g = pairs.groupby(["cluster_a", "cluster_b"])
    out = pd.DataFrame({"shared": g.size(), "low": g["low"].sum()}).reset_index()
    mass = p.groupby("cluster")["weight"].sum()
    union = out["cluster_a"].map(mass) + out["cluster_b"].map(mass) - out["low"]
    out["similarity"] = (out["low"] / union.clip(lower=1e-12)).round(4)
    out = out.rename(columns={"cluster_a": "a", "cluster_b": "b"})
    keep = (out["shared"] >= params.merge_min_templates) & (out["similarity"] >= params.merge_min_similarity)
    return out.loc[keep, cols].sort_values(["a", "b"]).reset_index(drop=True)


def _components(links: pd.DataFrame) -> dict:
    """Cluster -> smallest cluster key of its connected component (union-find, order-free)."""
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(links["a"], links["b"]):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


def plan_merges(activity: pd.DataFrame, sizes: pd.Series, flagged: set, prompt_accounts: pd.Series,
                total: int, params: DetectionParams) -> dict[str, Merge]:
    """Candidate merges: merged cluster key (its smallest fragment key) -> Merge."""
    profile = template_profile(activity, sizes, flagged, prompt_accounts, total, params)
    links = fragment_links(profile, params)
    if links.empty:
        return {}
    root = _components(links)
    groups: dict = {}
    for cluster, r in sorted(root.items()):
        groups.setdefault(r, []).append(cluster)
    # The templates named for a merge are those shared across at least two of its fragments.
    per = profile.assign(group=profile["cluster"].map(root)).dropna(subset=["group"])
    stats = per.groupby(["group", "prompt_fingerprint"]).agg(
        fragments=("cluster", "nunique"), users=("users", "sum"), accounts=("accounts", "first"))
    stats = stats[stats["fragments"] >= 2].reset_index()
    stats = stats.sort_values(["group", "users", "prompt_fingerprint"], ascending=[True, False, True])
    merges = {}
    for group, rows in stats.groupby("group", sort=True):
        merges[group] = Merge(tuple(sorted(groups[group])), tuple(rows["prompt_fingerprint"]),
                              tuple(int(u) for u in rows["users"]), tuple(int(a) for a in rows["accounts"]))
    return merges


def ring_risks(table: pd.DataFrame, model: Model = PRIOR) -> pd.Series:
    """Each cluster's ring score from its features (``scoring.ring_risk``), by cluster key."""
    return pd.Series([ring_risk({k: f[k] for k in FEATURES}, model) for f in table.to_dict("records")],
                     index=table.index, dtype=float)


def consolidate(acc: pd.DataFrame, use: pd.DataFrame, activity: pd.DataFrame, table: pd.DataFrame,
                base: Baselines, total: int, params: DetectionParams,
                model: Model = PRIOR) -> tuple[dict, pd.DataFrame, dict]:
    """Merge flagged fragments of one operation; returns (cluster renames, feature table, merges kept).

    ``acc``, ``use`` and ``activity`` carry the first clustering in ``cluster``; ``table`` is
    their feature table. Renamed clusters map to their merged cluster's key; the returned
    table has one row per cluster after the merges.
    """
    risk = ring_risks(table, model)
    flagged = set(risk.index[risk >= params.ring_threshold])
    if len(flagged) < 2:
        return {}, table, {}
    merges = plan_merges(activity, table["size"], flagged, base.prompt_accounts, total, params)
    if not merges:
        return {}, table, {}
    rename = {c: key for key, m in merges.items() for c in m.clusters}
    moved = lambda frame: frame[frame["cluster"].isin(rename)].assign(cluster=lambda f: f["cluster"].map(rename))
    merged = all_cluster_features(moved(acc), moved(use), moved(activity), base, params)
    kept = {key: m for key, m in merges.items()
            if ring_risk({k: merged.at[key, k] for k in FEATURES}, model) >= params.ring_threshold}
    rename = {c: key for key, m in kept.items() for c in m.clusters}
    out = pd.concat([table.drop(index=list(rename)), merged.loc[list(kept)]]).sort_index()
    return rename, out, kept
