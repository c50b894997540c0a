"""From shared identifiers and co-activity to strong account links.

A raw "shares an identifier" projection glues rings to bystanders through hubs and
legitimate sharing. So links here are multi-evidence: every shared identifier value is
weighted by its rarity (an IDF weight, ``engines.policy.rarity``), hubs are suppressed,
co-activity comes from similar activity in time windows (``similarity``) and
co-registration from signups in runs on one address (``coregistration``, which adds to
the network family rather than standing beside it), pool co-activity from accounts that
share a pool of addresses and use it in the same hours (``pools``), and a pair of
accounts is linked only with enough evidence from at least two independent families, with lockstep
behaviour, or with one family strong enough on its own (many rare templates in common, a
personal identifier no honest person shares).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines import Engine, LinkPolicy
from .coregistration import RUN_COLUMNS, coregistration_evidence
from .kinds import BEHAVIOUR, NETWORK, kind_table
from .params import DetectionParams
from .pools import pool_evidence, pool_pairs
from .similarity import coactivity_evidence, similar_pairs

STRONG_COLUMNS = ["a", "b", "weight", "families", "lockstep", "pool_hours"]
# A family adds to a link only with at least this much evidence (a hub-sized value adds ~0).
MIN_FAMILY_SCORE = 0.2


def link_policy(engine: Engine, params: DetectionParams, total_accounts: int) -> LinkPolicy:
    """The identifier-evidence question this run asks the engine."""
    return LinkPolicy(
        kinds=kind_table(engine.identifier_kinds(), alone_scores(params)),
        hub_cap=params.hub_cap,
        pair_cap=params.pair_cap,
        anchors=params.anchors,
        total_accounts=total_accounts,
        # Identifier evidence alone must pass the link rule, unless co-activity adds to it.
        min_total=params.link_threshold,
        # Network evidence worth more than one place comes back for the pool timing check.
        keep_score=params.pool_min_score,
    )


def alone_scores(params: DetectionParams) -> dict[str, float]:
    """Sharing class -> the family score at which that class links two accounts on its own."""
    return {"behavioural": params.behaviour_alone, "personal": params.personal_alone}


def pair_evidence(engine: Engine, params: DetectionParams, total_accounts: int,
                  runs: pd.DataFrame | None = None, ids: np.ndarray | None = None) -> tuple[pd.DataFrame, LinkPolicy]:
    """Evidence between account pairs, one row per (a, b, family): score, shared, similarity; and the policy asked.

    ``runs`` are the store's signup runs (``coregistration.signup_runs``), for co-registration;
    ``ids`` the account ids in account-id order (the pairs' numbering), for pool co-activity.
    """
    similar = similar_pairs(engine, params)
    runs = pd.DataFrame(columns=RUN_COLUMNS) if runs is None else runs
    together = coregistration_evidence(runs, params, total_accounts)
    policy = link_policy(engine, params, total_accounts)
    # Pairs that co-activity or co-registration may link keep their identifier evidence too.
    keep = pd.concat([similar[["a", "b"]], together[["a", "b"]]], ignore_index=True)
    shared = engine.pair_evidence(policy, keep_pairs=keep)
    shared["similarity"] = float("nan")
    ids = engine.accounts()["account_id"].to_numpy() if ids is None else ids
    pooled = pool_evidence(engine, pool_pairs(shared, params), ids, total_accounts)
    out = pd.concat([shared, coactivity_evidence(similar), together, pooled], ignore_index=True)
    out["family"] = out["family"].astype("category")
    return out, policy


def strong_links(evidence: pd.DataFrame, params: DetectionParams, policy: LinkPolicy) -> pd.DataFrame:
    """Pairs with enough independent evidence: a, b, weight, families, lockstep, pool_hours.

    ``pool_hours`` is the hours a pair was active in step through a shared address pool
    when that counted (``pools``), else 0, so explanations can say so.
    """
    if evidence.empty:
        return pd.DataFrame(columns=STRONG_COLUMNS)
    ev = evidence.copy()
    # Co-activity is behaviour too: it joins that family for the two-family rule.
    # Co-registration is timing on one address, so it adds to the network family and is no
    # second family beside it; a run strong enough links on its own, as behaviour does.
    family = ev["family"].astype(object)
    together = ev.loc[(family == "coregistration").to_numpy() & (ev["score"] >= params.behaviour_alone).to_numpy()]
    ev["family"] = family.replace({"coactivity": BEHAVIOUR, "pool_activity": BEHAVIOUR,
                                   "coregistration": NETWORK}).astype("category")
    fam = ev.groupby(["a", "b", "family"], sort=False, observed=True)["score"].sum().reset_index()
    # A family links alone when it is overwhelming (many rare templates in common, a phone
    # no one else has); other families need a second, independent one.
    bar = policy.kind_table().drop_duplicates("family").set_index("family")["alone"]
    alone = fam[fam["score"] >= fam["family"].astype(object).map(bar).astype(float)].set_index(["a", "b"]).index
    alone = alone.union(pd.MultiIndex.from_frame(together[["a", "b"]]))
    fam["score"] = fam["score"].clip(upper=1.0)
    fam = fam[fam["score"] >= MIN_FAMILY_SCORE]
    per_pair = fam.groupby(["a", "b"], sort=False).agg(weight=("score", "sum"), families=("family", "size"))
    coact = evidence[evidence["family"] == "coactivity"].set_index(["a", "b"])
    lockstep = (coact["similarity"] >= params.lockstep_similarity) & (coact["shared"] >= params.lockstep_common)
    per_pair["lockstep"] = lockstep.reindex(per_pair.index, fill_value=False).astype(bool) | per_pair.index.isin(alone)
    pool = evidence[(evidence["family"] == "pool_activity") & (evidence["score"] >= MIN_FAMILY_SCORE)]
    per_pair["pool_hours"] = pool.set_index(["a", "b"])["shared"].reindex(per_pair.index, fill_value=0).astype(int)
    keep = (
        (per_pair["weight"] >= params.link_threshold) & (per_pair["families"] >= params.min_families)
    ) | per_pair["lockstep"]
    out = per_pair[keep].reset_index()
    return out.sort_values(["a", "b"]).reset_index(drop=True)
