"""Scores and the words behind them: every cluster's risk and top evidence, every member's reasons.

The ring score comes from the ring features (``scoring``); its explanation lists the
features that moved it most, the merge that joined its fragments (``consolidation``) and
the identifier values its members share, rarest first. Each member's reasons start with
what the account itself shows (the values it shares with other members, output-heavy
traffic, requests in the ring's crowded windows), then its ring's, then its strong links.

Everything said here was counted on the way, and nothing the detector discounts is cited:
no hub value, no free-mail domain, no client string too common to be uncommon.

A cluster is a ring only when its members are flagged: it must score as a ring and its
strongest member must score as flagged too, and then every member is flagged (an
analyst's decision on one account can still hold that account back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engines import rarity
from .coregistration import crowd_runs
from .features import FEATURES, Baselines, in_crowded_windows
from .frames import is_in, runs_of
from .identity import shared_values
from .kinds import kind_info
from .params import DetectionParams
from .scoring import PRIOR, Model, account_risk, contributions, describe, risk_of

CLUSTER_COLUMNS = ["cluster_id", "ring_id", "size", "risk_score", "flagged"]
MEMBER_COLUMNS = ["account_id", "cluster_id", "risk_score", "reasons"]
EVIDENCE_COLUMNS = ["ring_id", "kind", "value", "members", "accounts", "rarity"]
# How many of the ring's sentences and shared values head its top evidence.
TOP_SENTENCES, TOP_SHARED, OWN_REASONS = 3, 2, 4


@dataclass
class Clustered:
    """The clustered accounts of a run and everything scoring and explaining them reads.

    ``acc`` (signup rows), ``use`` (usage summary rows) and ``activity`` (usage per bucket
    and template) carry each member's ``cluster``; ``links`` says what each member's strong
    links show (``link_facts``); ``identifiers`` are the members' signup identifiers and
    ``degrees`` how many accounts hold each of those values in the whole store.
    """

    acc: pd.DataFrame
    use: pd.DataFrame
    activity: pd.DataFrame
    links: pd.DataFrame
    identifiers: pd.DataFrame
    degrees: pd.DataFrame
    base: Baselines
    total: int

    def rename(self, mapping: dict) -> None:
        """Move clusters to new keys (fragments merged into one ring)."""
        for frame in (self.acc, self.use, self.activity):
            frame["cluster"] = frame["cluster"].map(mapping).fillna(frame["cluster"])

    def only(self, clusters) -> Clustered:
        """These clusters' rows alone (identifier degrees too: only the values their members hold)."""
        keep = lambda frame: frame[is_in(frame["cluster"], clusters)]
        acc = keep(self.acc)
        ids = self.identifiers[is_in(self.identifiers["account_id"], acc["account_id"])]
        degrees = self.degrees.merge(ids[["kind", "value"]].drop_duplicates(), on=["kind", "value"])
        return Clustered(acc, keep(self.use), keep(self.activity), self.links, ids, degrees,
                         self.base.of_members(ids, degrees), self.total)

    @staticmethod
    def joined(parts: list[Clustered]) -> Clustered:
        """The rows of several sets of clusters as one (their baselines and link facts are the first part's)."""
        first = parts[0]
        together = lambda name: pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        ids, degrees = together("identifiers"), together("degrees").drop_duplicates(["kind", "value"])
        return Clustered(together("acc"), together("use"), together("activity"), first.links, ids, degrees,
                         first.base.of_members(ids, degrees), first.total)


def score_clusters(found: Clustered, table: pd.DataFrame | None, names: dict, merges: dict,
                   params: DetectionParams, model: Model = PRIOR) -> dict:
    """Scores, explanations and evidence for every cluster (vectorised over clusters).

    Returns ``clusters`` (one row per cluster), ``members`` (per account: score and
    reasons) and ``evidence`` (shared values per ring).
    """
    if found.acc.empty:
        return {"clusters": pd.DataFrame(columns=CLUSTER_COLUMNS), "members": pd.DataFrame(columns=MEMBER_COLUMNS),
                "evidence": pd.DataFrame(columns=["cluster", *EVIDENCE_COLUMNS])}
    cluster_of = found.acc.set_index("account_id")["cluster"]
    ids = found.identifiers.assign(cluster=found.identifiers["account_id"].map(cluster_of))
    shared = shared_identifiers(ids[~discounted(ids, found.degrees, params)], found.degrees, found.total)
    ring_ids = pd.Series(names).reindex(table.index)
    evidence = pd.concat([merge_evidence(merges, found.total), shared], ignore_index=True)
    clusters, ring_text = _cluster_rows(found, table, ring_ids, merges, shared, evidence, params.ring_threshold, model)
    own = member_evidence(found, clusters.set_index("cluster_id").join(table[["output_heavy", "synchrony",
                                                                               "coregistration"]]),
                          _own_shares(ids, shared))
    strongest = own.groupby("cluster")["risk_score"].max()
    clusters["flagged"] &= clusters["cluster_id"].map(strongest).fillna(0.0).to_numpy() >= params.account_threshold
    evidence = evidence.assign(ring_id=evidence["cluster"].map(ring_ids))[["cluster", *EVIDENCE_COLUMNS]]
    members = member_reasons(own, clusters.set_index("cluster_id"), ring_text)
    return {"clusters": clusters, "members": members, "evidence": evidence.reset_index(drop=True)}


def scored_together(parts: list[dict], names: dict) -> dict:
    """Several ``score_clusters`` results as one, every cluster named by ``names`` (cluster key -> ring id).

    Only a cluster that is not flagged may have been scored before it was named: its
    reasons do not name its ring.
    """
    # Empty parts would make every column's type object.
    together = lambda name: pd.concat([p[name] for p in parts if len(p[name])] or [parts[0][name]], ignore_index=True)
    clusters = together("clusters").sort_values("cluster_id", kind="stable")
    evidence = together("evidence").sort_values("cluster", kind="stable")
    return {"clusters": clusters.assign(ring_id=clusters["cluster_id"].map(names)).reset_index(drop=True),
            "members": together("members"),
            "evidence": evidence.assign(ring_id=evidence["cluster"].map(names)).reset_index(drop=True)}


def discounted(ids: pd.DataFrame, degrees: pd.DataFrame, params: DetectionParams) -> pd.Series:
    """Identifier rows (account_id, kind, value) whose value the detector does not count as evidence.

    Hubs link no one; a client string sent by more than ``rare_client_max_accounts``
    accounts is a stock browser or SDK, not a shared tool; free-mail domains never reach
    the identifiers at all (``load.linkable_identifiers``).
    """
    held = ids[["kind", "value"]].merge(degrees, on=["kind", "value"], how="left")["accounts"].fillna(0).to_numpy()
    common_client = (ids["kind"] == "user_agent").to_numpy() & (held > params.rare_client_max_accounts)
    return pd.Series((held > params.hub_cap) | common_client, index=ids.index)


def _cluster_rows(found: Clustered, table, ring_ids, merges, shared, evidence, ring_threshold, model: Model):
    """One row per cluster (score, flag, explanation, features) and each cluster's ring text."""
    spans = pd.concat([found.acc[["cluster", "created_at"]].rename(columns={"created_at": "t"}),
                       found.use[["cluster", "first_ts"]].rename(columns={"first_ts": "t"}),
                       found.use[["cluster", "last_ts"]].rename(columns={"last_ts": "t"})]).groupby("cluster")["t"]
    first_seen, last_seen = spans.min(), spans.max()
    top = shared.groupby("cluster").head(TOP_SHARED)
    top_shared = runs_of(top["cluster"].to_numpy(), top["text"].to_numpy(object))
    kinds = evidence[["cluster", "kind"]].drop_duplicates().sort_values(["cluster", "kind"])
    kinds = runs_of(kinds["cluster"].to_numpy(), kinds["kind"].to_numpy(object)).map(", ".join)
    rows, ring_text = [], {}
    for cluster, f in zip(table.index, table.to_dict("records")):
        feats = {k: f[k] for k in FEATURES}
        contributed = contributions(feats, model)
        risk = risk_of(contributed, model)
        sentences = describe(feats, f, model, contributed)
        positive = [s for v, s in sentences if v > 0][:TOP_SENTENCES]
        if cluster in merges:
            # Weight 0: the merge explains the ring's extent and adds nothing to its score.
            sentences = [(0.0, merges[cluster].sentence())] + sentences
            positive = [merges[cluster].sentence()] + positive
        ring_text[cluster] = "; ".join(positive)
        rows.append({
            "cluster_id": cluster, "ring_id": ring_ids[cluster], "size": int(f["size"]), "risk_score": risk,
            "flagged": bool(risk >= ring_threshold),
            "first_seen": first_seen[cluster], "last_seen": last_seen[cluster],
            "top_evidence": "; ".join(positive + top_shared.get(cluster, [])),
            "explanation": json.dumps([{"weight": v, "text": s} for v, s in sentences]),
            "features": json.dumps(feats), "contributions": json.dumps(contributed),
            "evidence_kinds": kinds.get(cluster, ""),
            "requests": int(f["requests"]), "output_tokens": int(f["output_tokens"]),
        })
    return pd.DataFrame(rows), ring_text


def merge_evidence(merges: dict, total: int) -> pd.DataFrame:
    """Evidence rows for the rare prompt templates that joined a ring's fragments."""
    ev = pd.DataFrame([{"cluster": cluster, "kind": "prompt", "value": fp, "members": u, "accounts": a}
                       for cluster, m in sorted(merges.items())
                       for fp, u, a in zip(m.templates, m.users, m.accounts)],
                      columns=["cluster", "kind", "value", "members", "accounts"])
    return ev.assign(rarity=rarity(ev["accounts"], total).round(3))


def shared_identifiers(ids: pd.DataFrame, degrees: pd.DataFrame, total: int) -> pd.DataFrame:
    """Identifier values shared by at least two members of a cluster, ranked by rarity and coverage."""
    sh = shared_values(ids, degrees)
    sh["rarity"] = rarity(sh["accounts"], total).round(3)
    info = sh["kind"].map(kind_info)
    sh["rank"] = sh["members"] * sh["rarity"] * info.map(lambda k: k.weight)
    sh["text"] = [f"{k.noun} {v} shared by {m} accounts here ({a} overall)"
                  for k, v, m, a in zip(info, sh["value"], sh["members"], sh["accounts"])]
    sh = sh.sort_values(["cluster", "rank", "kind", "value"], ascending=[True, False, True, True])
    return sh.reset_index(drop=True)


def _own_shares(ids: pd.DataFrame, shared: pd.DataFrame) -> pd.Series:
    """Per member: "shares <kind> <value> with N other members" for each value it shares inside its cluster.

    ``ids`` are the members' identifier rows with their cluster, ``shared`` the cluster's
    shared values as ``shared_identifiers`` counted them (nothing the detector discounts).
    Every identifier kind counts, declared ones too. Rarest values first.
    """
    held = ids[["account_id", "cluster", "kind", "value"]].merge(
        shared[["cluster", "kind", "value", "members", "rarity"]], on=["cluster", "kind", "value"])
    if held.empty:
        return pd.Series(dtype=object)
    info = held["kind"].map(kind_info)
    held["rank"] = held["rarity"] * info.map(lambda k: k.weight)
    held["text"] = [f"shares {k.noun} {v} with {int(m) - 1} other members"
                    for k, v, m in zip(info.tolist(), held["value"].tolist(), held["members"].tolist())]
    held = held.sort_values(["account_id", "rank", "kind", "value"], ascending=[True, False, True, True])
    return runs_of(held["account_id"].to_numpy(), held["text"].to_numpy(object))


def link_facts(links: pd.DataFrame, numbers: np.ndarray, ids: pd.Series) -> pd.DataFrame:
    """What the strong links (a, b as account numbers, pool_hours) show of the accounts ``numbers`` (named ``ids``).

    Per account: ``strong``, its strong links; ``pool_links``, those that pool co-activity
    made; ``pool_hours``, the most hours it was active in step with one of them. Counted on
    account numbers, so a run holds no text per link.
    """
    size = int(max(links["a"].max(), links["b"].max()) + 1) if len(links) else 0
    size = max(size, int(numbers.max()) + 1 if len(numbers) else 0)
    a, b = links["a"].to_numpy(dtype=np.int64), links["b"].to_numpy(dtype=np.int64)
    hours = links["pool_hours"].to_numpy(dtype=np.int64)
    pool = hours > 0
    most = np.zeros(size, dtype=np.int64)
    np.maximum.at(most, a[pool], hours[pool])
    np.maximum.at(most, b[pool], hours[pool])
    return pd.DataFrame({
        "strong": (np.bincount(a, minlength=size) + np.bincount(b, minlength=size))[numbers],
        "pool_links": (np.bincount(a[pool], minlength=size) + np.bincount(b[pool], minlength=size))[numbers],
        "pool_hours": most[numbers],
    }, index=pd.Index(ids.to_numpy(), name="account_id"))


def member_evidence(found: Clustered, clusters: pd.DataFrame, own_shares: pd.Series) -> pd.DataFrame:
    """Per member: its cluster, risk score and what the account itself shows (account_id, cluster, risk_score, own, strong).

    A member's score is its ring's, scaled by how much of the ring's evidence the member
    itself shows (``scoring.account_risk``): shared values, two or more strong links, and,
    when the ring shows them, output-heavy traffic, requests in crowded windows and a signup
    in a crowd (``coregistration.crowd_runs``). ``clusters`` carries each cluster's
    ``risk_score``, ``size``, ``output_heavy``, ``synchrony`` and ``coregistration``;
    ``own_shares`` each member's shared values in words (``_own_shares``).
    """
    acc, base = found.acc.reset_index(drop=True), found.base
    shared_text = acc["account_id"].map(own_shares)
    shares = shared_text.map(lambda t: isinstance(t, list) and len(t) > 0).to_numpy(dtype=bool)
    usage = found.use.set_index("account_id")
    ratio = (usage["output_tokens"] / usage["input_tokens"].clip(lower=1)).reindex(acc["account_id"]).to_numpy()
    heavy = (ratio >= 2 * base.output_ratio) if base.output_ratio > 0 else np.zeros(len(acc), bool)
    heavy = np.nan_to_num(heavy, nan=0).astype(bool)
    crowded = (found.activity.loc[in_crowded_windows(found.activity, clusters["size"]), "account_id"]
               if len(found.activity) else [])
    in_sync = is_in(acc["account_id"], crowded)
    facts = found.links.reindex(acc["account_id"]).fillna(0)
    strong = facts["strong"].to_numpy(dtype=int)
    pooled = (facts["pool_links"].to_numpy(dtype=int), facts["pool_hours"].to_numpy(dtype=int))
    # The fit counts only the evidence the ring itself shows: a ring without traffic
    # (identity records alone) is not held against its members for sending none.
    ring_heavy = acc["cluster"].map(clusters["output_heavy"]).fillna(0).to_numpy() > 0
    ring_sync = acc["cluster"].map(clusters["synchrony"]).fillna(0).to_numpy() > 0
    crowd = crowd_runs(acc[["account_id", "cluster"]], base.runs).set_index("account_id").reindex(acc["account_id"])
    in_crowd = crowd["members"].notna().to_numpy()
    ring_crowd = acc["cluster"].map(clusters["coregistration"]).fillna(0).to_numpy() > 0
    shown = shares.astype(float) + (strong >= 2) + (heavy & ring_heavy) + (in_sync & ring_sync) + (in_crowd & ring_crowd)
    fit = shown / (2.0 + ring_heavy + ring_sync + ring_crowd)
    risk = acc["cluster"].map(clusters["risk_score"]).to_numpy()
    own = []
    crowd_members, crowd_minutes, crowd_key = (crowd[c].tolist() for c in ("members", "minutes", "key"))
    for i, shared_here in enumerate(shared_text.tolist()):
        text = list(shared_here) if isinstance(shared_here, list) else []
        if in_crowd[i]:
            text.insert(0, f"signed up with {int(crowd_members[i]) - 1} other members within "
                           f"{int(crowd_minutes[i])} minutes from {crowd_key[i]}")
        if pooled[0][i]:
            text.append(f"active in step with {pooled[0][i]} other members through addresses they share "
                        f"(up to {pooled[1][i]} hours in common)")
        if heavy[i]:
            text.append(f"output/input ratio {ratio[i] / base.output_ratio:.1f}x median")
        if in_sync[i]:
            text.append("sent requests in the same windows as other members")
        own.append(text[:OWN_REASONS])
    return pd.DataFrame({"account_id": acc["account_id"], "cluster": acc["cluster"],
                         "risk_score": [account_risk(r, f) for r, f in zip(risk, fit)], "own": own, "strong": strong})


def member_reasons(own: pd.DataFrame, clusters: pd.DataFrame, ring_text: dict) -> pd.DataFrame:
    """Per member: score and reasons, the account's own evidence first, then its ring's."""
    risk = own["cluster"].map(clusters["risk_score"]).to_numpy()
    flagged = own["cluster"].map(clusters["flagged"]).to_numpy(dtype=bool)
    rid = own["cluster"].map(clusters["ring_id"]).to_numpy()
    size = own["cluster"].map(clusters["size"]).to_numpy()
    reasons = []
    for i, (cluster, text, strong) in enumerate(zip(own["cluster"], own["own"], own["strong"])):
        ring = (f"ring {rid[i]} (risk {risk[i]:.2f}): {ring_text[cluster]}" if flagged[i]
                else f"linked to {int(size[i]) - 1} accounts, not scored as a ring (risk {risk[i]:.2f})")
        head = f"this account: {'; '.join(text)} | " if text else ""
        reasons.append(f"{head}{ring} | strong links: {strong}")
    return pd.DataFrame({"account_id": own["account_id"], "cluster_id": own["cluster"],
                         "risk_score": own["risk_score"], "reasons": reasons})
