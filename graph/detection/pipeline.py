"""The detection pipeline, written once over the engine interface.

evidence between accounts -> strong links -> clusters -> ring features -> scores ->
consolidation of flagged fragments that share rare prompt templates (``consolidation``) ->
explanations -> stored results. Same input and parameters give the same rings, the same
ring ids and the same scores. A ring seen in the previous run keeps that run's id
(``lineage.match_rings``); a ring never seen before is named by a hash of its sorted member
ids. Analysts' false-positive decisions are applied last (``decisions.apply_feedback``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ringwatch.ingest.normalise import is_free_email_domain

from .consolidation import consolidate
from ..casework.decisions import apply_feedback
from ..engines.base import Engine, EngineError
from .features import FEATURES, Baselines, all_cluster_features
from .lineage import flagged_ring_ids, match_rings, previous_rings, record_history
from .linking import clusters, pair_evidence, rarity, strong_links
from .params import DetectionParams, kind_info
from .scoring import account_risk, contributions, describe, ring_risk

log = logging.getLogger(__name__)

ACCOUNT_RESULT_COLUMNS = ["account_id", "ring_id", "risk_score", "flagged", "reasons", "cluster_id"]


@dataclass
class DetectionSummary:
    """What a detection run found, for the command line and the run log."""

    accounts: int
    links: int
    clusters: int
    rings: int
    flagged_accounts: int
    suppressed_hubs: int
    seconds: float


def ring_id(members) -> str:
    """Deterministic ring id from the sorted member ids."""
    digest = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()
    return f"R-{digest[:10]}"


def detect(engine: Engine, params: DetectionParams | None = None, progress=None) -> DetectionSummary:
    """Run detection on everything in the store and save the results tables."""
    params = params or DetectionParams()
    step = progress or (lambda label: None)
    started = time.perf_counter()
    accounts = engine.accounts()
    if accounts.empty:
        raise EngineError("no accounts in this store: run `ringwatch ingest --signups PATH` first")
    total = len(accounts)

    step("identifier degrees")
    hubs = engine.identifier_degrees(min_accounts=params.hub_cap + 1).reset_index(drop=True)
    step("pair evidence")
    evidence = pair_evidence(engine, params, total)
    links = strong_links(evidence, params)
    step("clusters")
    cl = clusters(engine, links, params)
    # Pair results number accounts by their position in account-id order.
    ids = accounts["account_id"].to_numpy()
    cl["account_id"] = ids[cl["account_id"].to_numpy(dtype=np.int64)]
    cl["cluster"] = ids[cl["cluster"].to_numpy(dtype=np.int64)]
    links = links.assign(a=ids[links["a"].to_numpy(dtype=np.int64)], b=ids[links["b"].to_numpy(dtype=np.int64)])

    step("ring features")
    usage = engine.usage_summary()
    sizes = cl["cluster"].value_counts()
    cl = cl[cl["cluster"].map(sizes) >= params.min_ring_size]
    previously_flagged = flagged_ring_ids(engine)
    member_ids = engine.account_identifiers(cl["account_id"].tolist())
    degrees = engine.value_degrees(member_ids[["kind", "value"]])
    base = Baselines(
        usage,
        engine.prompt_summary(),
        degrees[degrees["kind"] == "user_agent"].set_index("value")["accounts"].to_dict(),
    )
    acc, use, activity = _member_frames(engine, accounts, usage, cl, params)
    rename, table, merges = {}, None, {}
    if len(acc):
        table = all_cluster_features(acc, use, activity, base, params.hub_cap, params.pair_cap)
        step("consolidate")
        rename, table, merges = consolidate(acc, use, activity, table, base, total, params)
    if rename:
        log.info("consolidation merged %d flagged clusters into %d rings", len(rename), len(merges))
        for frame in (cl, acc, use, activity):
            frame["cluster"] = frame["cluster"].map(rename).fillna(frame["cluster"])
    names, lineage = match_rings(previous_rings(engine), cl.groupby("cluster")["account_id"].agg(frozenset), ring_id)
    scored = _score_clusters(acc, use, activity, table, links, member_ids, degrees, base, params, total, names, merges)

    step("save")
    tables = _result_tables(accounts, scored, hubs, params)
    tables["lineage"] = lineage
    apply_feedback(engine, tables)
    runtime = time.perf_counter() - started
    summary = DetectionSummary(
        accounts=total,
        links=len(links),
        clusters=len(scored["clusters"]),
        rings=int(scored["clusters"]["flagged"].sum()) if len(scored["clusters"]) else 0,
        flagged_accounts=int(tables["accounts"]["flagged"].sum()),
        suppressed_hubs=len(hubs),
        seconds=round(runtime, 2),
    )
    finished = pd.Timestamp.now(tz="UTC").tz_localize(None)
    tables["runs"] = pd.DataFrame(
        [{"finished_at": finished, "params": json.dumps(params.as_dict()),
          **{k: v for k, v in summary.__dict__.items()}}]
    )
    engine.save_results(tables)
    data_until = pd.to_datetime(usage["last_ts"]).max() if len(usage) else None
    record_history(engine, lineage, tables["rings"], previously_flagged, finished, data_until)
    return summary


def _member_frames(engine, accounts, usage, cl, params):
    """Signup rows, usage summary and bucketed usage of the clustered accounts, each with ``cluster``."""
    member_ids = cl["account_id"].tolist()
    cluster_of = cl.set_index("account_id")["cluster"]
    acc = accounts[accounts["account_id"].isin(member_ids)].copy()
    acc["free_domain"] = acc["email_domain"].map(lambda d: is_free_email_domain(d) if isinstance(d, str) else True)
    acc["cluster"] = acc["account_id"].map(cluster_of)
    use = usage[usage["account_id"].isin(member_ids)].assign(cluster=lambda f: f["account_id"].map(cluster_of))
    activity = engine.member_usage(member_ids, params.bucket_minutes) if member_ids else pd.DataFrame(
        columns=["account_id", "bucket", "prompt_fingerprint", "requests", "input_tokens", "output_tokens"])
    activity["cluster"] = activity["account_id"].map(cluster_of)
    return acc, use, activity


def _score_clusters(acc, use, activity, table, links, ids, degrees, base, params, total, names, merges) -> dict:
    """Scores, explanations and evidence for every cluster (vectorised over clusters)."""
    empty = {"clusters": pd.DataFrame(columns=["cluster_id", "ring_id", "size", "risk_score", "flagged"]),
             "members": pd.DataFrame(columns=["account_id", "cluster_id", "risk_score", "reasons"]),
             "evidence": pd.DataFrame(columns=["ring_id", "kind", "value", "members", "accounts", "rarity"])}
    if acc.empty:
        return empty
    cluster_of = acc.set_index("account_id")["cluster"]
    shared = _shared_identifiers(ids.assign(cluster=ids["account_id"].map(cluster_of)), degrees, total)
    ring_ids = pd.Series(names).reindex(table.index)
    spans = pd.concat([acc[["cluster", "created_at"]].rename(columns={"created_at": "t"}),
                       use[["cluster", "first_ts"]].rename(columns={"first_ts": "t"}),
                       use[["cluster", "last_ts"]].rename(columns={"last_ts": "t"})]).groupby("cluster")["t"]
    first_seen, last_seen = spans.min(), spans.max()
    top_shared = shared.groupby("cluster").head(2).groupby("cluster")["text"].agg(list)
    evidence = pd.concat([_merge_evidence(merges, total), shared], ignore_index=True)
    kinds = evidence.groupby("cluster")["kind"].agg(lambda k: ", ".join(sorted(set(k))))

    rows, ring_text = [], {}
    for cluster, f in zip(table.index, table.to_dict("records")):
        feats = {k: f[k] for k in FEATURES}
        risk = ring_risk(feats)
        sentences = describe(feats, f)
        positive = [s for v, s in sentences if v > 0][:3]
        if cluster in merges:
            # Weight 0: the merge explains the ring's extent and adds nothing to its score.
            sentences = [(0.0, merges[cluster].sentence())] + sentences
            positive = [merges[cluster].sentence()] + positive
        ring_text[cluster] = "; ".join(positive)
        rows.append({
            "cluster_id": cluster, "ring_id": ring_ids[cluster], "size": int(f["size"]), "risk_score": risk,
            "flagged": bool(risk >= params.ring_threshold),
            "first_seen": first_seen[cluster], "last_seen": last_seen[cluster],
            "top_evidence": "; ".join(positive + top_shared.get(cluster, [])),
            "explanation": json.dumps([{"weight": v, "text": s} for v, s in sentences]),
            "features": json.dumps(feats), "contributions": json.dumps(contributions(feats)),
            "evidence_kinds": kinds.get(cluster, ""),
            "requests": int(f["requests"]), "output_tokens": int(f["output_tokens"]),
        })
    clusters_df = pd.DataFrame(rows)
    evidence = evidence.assign(ring_id=evidence["cluster"].map(ring_ids))[empty["evidence"].columns]
    members = _member_reasons(acc, use, activity, links, base, clusters_df.set_index("cluster_id"), ring_text)
    return {"clusters": clusters_df, "members": members, "evidence": evidence.reset_index(drop=True)}


def _merge_evidence(merges: dict, total: int) -> pd.DataFrame:
    """Evidence rows for the rare prompt templates that joined a ring's fragments."""
    ev = pd.DataFrame([{"cluster": cluster, "kind": "prompt", "value": fp, "members": u, "accounts": a}
                       for cluster, m in sorted(merges.items())
                       for fp, u, a in zip(m.templates, m.users, m.accounts)],
                      columns=["cluster", "kind", "value", "members", "accounts"])
    return ev.assign(rarity=rarity(ev["accounts"], total).round(3))


def _shared_identifiers(ids: pd.DataFrame, degrees: pd.DataFrame, total: int) -> pd.DataFrame:
    """Identifier values shared by at least two members of a cluster, ranked by rarity and coverage."""
    sh = ids.groupby(["cluster", "kind", "value"])["account_id"].nunique().rename("members").reset_index()
    sh = sh[sh["members"] >= 2].merge(degrees, on=["kind", "value"], how="left")
    sh["accounts"] = sh["accounts"].fillna(sh["members"]).astype(np.int64)
    sh["rarity"] = rarity(sh["accounts"], total).round(3)
    info = sh["kind"].map(kind_info)
    sh["rank"] = sh["members"] * sh["rarity"] * info.map(lambda k: k.weight)
    sh["text"] = [f"{k.noun} {v} shared by {m} accounts here ({a} overall)"
                  for k, v, m, a in zip(info, sh["value"], sh["members"], sh["accounts"])]
    sh = sh.sort_values(["cluster", "rank", "kind", "value"], ascending=[True, False, True, True])
    return sh.reset_index(drop=True)


OWN_EVIDENCE = (("payment", "payment_id"), ("device", "device_id"), ("phone", "phone"), ("ip", "ip"),
                ("user_agent", "user_agent"), ("email_domain", "email_domain"))


def _member_reasons(acc, usage, activity, links, base, clusters, ring_text) -> pd.DataFrame:
    """Per-member score and reasons: the ring's evidence plus what this account itself shows."""
    acc = acc.reset_index(drop=True)
    parts = []
    for kind, column in OWN_EVIDENCE:
        n = acc.groupby(["cluster", column])[column].transform("size")
        noun = kind_info(kind).noun
        parts.append([f"shares {noun} {v} with {int(k) - 1} other members" if k >= 2 else ""
                      for v, k in zip(acc[column], n.fillna(0))])
    shares = np.array([any(p[i] for p in parts) for i in range(len(acc))], dtype=bool)

    own = usage.set_index("account_id")
    ratio = (own["output_tokens"] / own["input_tokens"].clip(lower=1)).reindex(acc["account_id"]).to_numpy()
    heavy = (ratio >= 2 * base.output_ratio) if base.output_ratio > 0 else np.zeros(len(acc), bool)
    heavy = np.nan_to_num(heavy, nan=0).astype(bool)
    size = acc["cluster"].map(clusters["size"])
    if len(activity):
        crowd = np.maximum(3, np.ceil(0.1 * activity["cluster"].map(clusters["size"])))
        in_bucket = activity.groupby(["cluster", "bucket"])["account_id"].transform("nunique")
        sync = set(activity.loc[in_bucket >= crowd, "account_id"])
    else:
        sync = set()
    in_sync = acc["account_id"].isin(sync).to_numpy()
    link_count = pd.concat([links["a"], links["b"]]).value_counts()
    strong = acc["account_id"].map(link_count).fillna(0).astype(int).to_numpy()
    fit = (shares.astype(float) + heavy + in_sync + (strong >= 2)) / 4.0
    risk = acc["cluster"].map(clusters["risk_score"]).to_numpy()
    flagged = acc["cluster"].map(clusters["flagged"]).to_numpy(dtype=bool)
    rid = acc["cluster"].map(clusters["ring_id"]).to_numpy()

    reasons = []
    for i in range(len(acc)):
        own_text = [p[i] for p in parts if p[i]]
        if heavy[i]:
            own_text.append(f"output/input ratio {ratio[i] / base.output_ratio:.1f}x median")
        if in_sync[i]:
            own_text.append("sent requests in the same windows as other members")
        cluster = acc.at[i, "cluster"]
        head = (f"ring {rid[i]} (risk {risk[i]:.2f}): {ring_text[cluster]}" if flagged[i]
                else f"linked to {int(size.iat[i]) - 1} accounts, not scored as a ring (risk {risk[i]:.2f})")
        reasons.append(head + (" | this account: " + "; ".join(own_text[:4]) if own_text else "")
                       + f" | strong links: {strong[i]}")
    return pd.DataFrame({"account_id": acc["account_id"], "cluster_id": acc["cluster"],
                         "risk_score": [account_risk(r, f) for r, f in zip(risk, fit)], "reasons": reasons})


def _result_tables(accounts, scored, hubs, params) -> dict[str, pd.DataFrame]:
    clusters_df = scored["clusters"]
    members = scored["members"]
    out = accounts[["account_id"]].copy()
    if len(members):
        out = out.merge(members, on="account_id", how="left")
        ring_of = clusters_df.set_index("cluster_id")
        flagged_cluster = out["cluster_id"].map(ring_of["flagged"]).fillna(False).astype(bool)
        out["ring_id"] = out["cluster_id"].map(ring_of["ring_id"]).where(flagged_cluster)
        out["flagged"] = flagged_cluster & (out["risk_score"] >= params.account_threshold)
    else:
        out["cluster_id"], out["risk_score"], out["reasons"], out["ring_id"] = None, np.nan, None, None
        out["flagged"] = False
    out["risk_score"] = out["risk_score"].fillna(0.0).astype(float)
    out["reasons"] = out["reasons"].fillna("")
    out = out[ACCOUNT_RESULT_COLUMNS].sort_values("account_id").reset_index(drop=True)
    rings = clusters_df.sort_values(["risk_score", "ring_id"], ascending=[False, True]).reset_index(drop=True)
    return {"accounts": out, "rings": rings, "ring_evidence": scored["evidence"],
            "suppressed_hubs": hubs}
