"""The detection pipeline, written once over the engine interface.

evidence between accounts -> strong links -> clusters -> ring features -> scores and
explanations -> stored results. Same input and parameters give the same rings, the same
ring ids (a hash of the sorted member ids) and the same scores.
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

from .engine import Engine, EngineError
from .features import Baselines, cluster_features
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
    member_ids = engine.account_identifiers(cl["account_id"].tolist())
    degrees = engine.value_degrees(member_ids[["kind", "value"]])
    base = Baselines(
        usage,
        engine.prompt_summary(),
        degrees[degrees["kind"] == "user_agent"].set_index("value")["accounts"].to_dict(),
    )
    scored = _score_clusters(engine, accounts, usage, cl, links, member_ids, degrees, base, params, total)

    step("save")
    tables = _result_tables(accounts, scored, hubs, params, total)
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
    tables["runs"] = pd.DataFrame(
        [{"finished_at": pd.Timestamp.now(tz="UTC").tz_localize(None), "params": json.dumps(params.as_dict()),
          **{k: v for k, v in summary.__dict__.items()}}]
    )
    engine.save_results(tables)
    return summary


def _score_clusters(engine, accounts, usage, cl, links, ids, degrees, base, params, total) -> dict:
    """Features, scores, explanations and evidence for every cluster."""
    empty = {"clusters": pd.DataFrame(columns=["cluster_id", "ring_id", "size", "risk_score", "flagged"]),
             "members": pd.DataFrame(columns=["account_id", "cluster_id", "risk_score", "reasons"]),
             "evidence": pd.DataFrame(columns=["ring_id", "kind", "value", "members", "accounts", "rarity"])}
    if cl.empty:
        return empty
    member_ids = cl["account_id"].tolist()
    cluster_of = cl.set_index("account_id")["cluster"]
    acc = accounts[accounts["account_id"].isin(member_ids)].copy()
    acc["free_domain"] = acc["email_domain"].map(lambda d: bool(d) and is_free_email_domain(d) if isinstance(d, str) else True)
    acc["cluster"] = acc["account_id"].map(cluster_of)
    use = usage[usage["account_id"].isin(member_ids)].copy()
    use["cluster"] = use["account_id"].map(cluster_of)
    activity = engine.member_usage(member_ids, params.bucket_minutes)
    activity["cluster"] = activity["account_id"].map(cluster_of)
    ids = ids.assign(cluster=ids["account_id"].map(cluster_of))
    deg = degrees.set_index(["kind", "value"])["accounts"]
    link_count = pd.concat([links["a"], links["b"]]).value_counts()

    groups_use = dict(tuple(use.groupby("cluster")))
    groups_act = dict(tuple(activity.groupby("cluster")))
    groups_ids = dict(tuple(ids.groupby("cluster")))
    rows, member_rows, evidence_rows = [], [], []
    for cluster, members in acc.groupby("cluster", sort=True):
        u = groups_use.get(cluster, use.iloc[0:0])
        a = groups_act.get(cluster, activity.iloc[0:0])
        feats, details = cluster_features(members, u, a, base, params.hub_cap, params.pair_cap)
        risk = ring_risk(feats)
        rid = ring_id(members["account_id"])
        flagged = risk >= params.ring_threshold
        sentences = describe(feats, details)
        shared = _shared_identifiers(groups_ids.get(cluster, ids.iloc[0:0]), deg, total)
        top = [s for v, s in sentences if v > 0][:3] + [e["text"] for e in shared[:2]]
        first = min(members["created_at"].min(), u["first_ts"].min() if len(u) else members["created_at"].min())
        last = max(members["created_at"].max(), u["last_ts"].max() if len(u) else members["created_at"].max())
        rows.append({
            "cluster_id": cluster, "ring_id": rid, "size": len(members), "risk_score": risk,
            "flagged": bool(flagged), "first_seen": first, "last_seen": last,
            "top_evidence": "; ".join(top),
            "explanation": json.dumps([{"weight": v, "text": s} for v, s in sentences]),
            "features": json.dumps(feats), "contributions": json.dumps(contributions(feats)),
            "evidence_kinds": ", ".join(sorted({e["kind"] for e in shared})),
            "requests": details.get("requests", 0), "output_tokens": details.get("output_tokens", 0),
        })
        for e in shared:
            evidence_rows.append({"ring_id": rid, "kind": e["kind"], "value": e["value"], "members": e["members"],
                                  "accounts": e["accounts"], "rarity": e["rarity"]})
        member_rows.extend(_member_reasons(members, a, u, shared, link_count, base, rid, risk, flagged, sentences, details))
    clusters_df = pd.DataFrame(rows)
    return {"clusters": clusters_df, "members": pd.DataFrame(member_rows),
            "evidence": pd.DataFrame(evidence_rows, columns=empty["evidence"].columns)}


def _shared_identifiers(ids: pd.DataFrame, deg: pd.Series, total: int) -> list[dict]:
    """Identifier values shared by at least two members, ranked by rarity and coverage."""
    if ids.empty:
        return []
    counts = ids.groupby(["kind", "value"])["account_id"].nunique()
    counts = counts[counts >= 2]
    out = []
    for (kind, value), members in counts.items():
        overall = int(deg.get((kind, value), members))
        r = float(rarity(np.array([overall]), total)[0])
        out.append({"kind": kind, "value": value, "members": int(members), "accounts": overall,
                    "rarity": round(r, 3), "rank": members * r * kind_info(kind).weight,
                    "text": f"{kind_info(kind).noun} {value} shared by {members} accounts here ({overall} overall)"})
    out.sort(key=lambda e: (-e["rank"], e["kind"], e["value"]))
    return out


def _member_reasons(members, activity, usage, shared, link_count, base, rid, risk, flagged, sentences, details):
    """Per-member score and reasons: the ring's evidence plus what this account itself shows."""
    by_value = {}
    for e in shared:
        by_value[(e["kind"], e["value"])] = e
    burst_start = members["created_at"].sort_values()
    ring_text = "; ".join([s for v, s in sentences if v > 0][:3])
    rows = []
    own_usage = usage.set_index("account_id") if len(usage) else None
    sync = set()
    if len(activity):
        tok = activity.groupby(["bucket", "prompt_fingerprint"])["account_id"].transform("nunique")
        sync = set(activity.loc[tok >= 3, "account_id"])
    for _, m in members.iterrows():
        own = []
        for kind, column in (("payment", "payment_id"), ("device", "device_id"), ("phone", "phone"),
                             ("ip", "ip"), ("user_agent", "user_agent"), ("email_domain", "email_domain")):
            e = by_value.get((kind, m[column])) if isinstance(m[column], str) else None
            if e:
                own.append(f"shares {kind_info(kind).noun} {e['value']} with {e['members'] - 1} other members")
        checks = [bool(own)]
        if own_usage is not None and m["account_id"] in own_usage.index:
            r = own_usage.loc[m["account_id"]]
            ratio = r["output_tokens"] / max(r["input_tokens"], 1)
            heavy = base.output_ratio > 0 and ratio >= 2 * base.output_ratio
            checks.append(heavy)
            if heavy:
                own.append(f"output/input ratio {ratio / base.output_ratio:.1f}x median")
        in_sync = m["account_id"] in sync
        checks.append(in_sync)
        if in_sync:
            own.append("sent requests in the same windows as other members")
        links = int(link_count.get(m["account_id"], 0))
        checks.append(links >= 2)
        fit = float(np.mean(checks))
        score = account_risk(risk, fit)
        head = f"ring {rid} (risk {risk:.2f}): {ring_text}" if flagged else (
            f"linked to {details['size'] - 1} accounts, not scored as a ring (risk {risk:.2f})")
        reasons = head + (" | this account: " + "; ".join(own[:4]) if own else "") + f" | strong links: {links}"
        rows.append({"account_id": m["account_id"], "cluster_id": m["cluster"], "risk_score": score,
                     "reasons": reasons})
    return rows


def _result_tables(accounts, scored, hubs, params, total) -> dict[str, pd.DataFrame]:
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
