"""Read-side views for the analysts' dashboard: DataFrames in, DataFrames out.

Everything here composes the engine's public primitives and the stored result tables; it
never formats values into queries. The dashboard caches these results; nothing here
keeps state between calls.
"""

from __future__ import annotations

import json

import pandas as pd
from ringwatch.ingest.normalise import (
    is_free_email_domain,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_text_id,
)

from ..casework.exports import bans_table
from ..engines import Engine
from . import overview_tables
from .case_views import RING_COUNT_LABELS, ring_counts, ring_decisions
from .overview_tables import STATUSES

RING_LIST_COLUMNS = ["ring_id", "risk_score", "size", "status", "decision", "evidence_kinds", "first_seen", "last_seen",
                     "requests", "output_tokens", "top_evidence", "flagged", "cluster_id", "verdict"]
EDGE_COLUMNS = ["account_id", "kind", "value"]
# Search fields the lookup page offers, and the identifier kinds each one searches.
SEARCH_FIELDS = {
    "any": ("account_id", "email", "phone", "ip", "ip_net", "device", "payment"),
    "account_id": ("account_id",),
    "email": ("email",),
    "phone": ("phone",),
    "ip": ("ip", "ip_net"),
    "device": ("device",),
    "payment": ("payment",),
}
# An account with fewer shared identifier values than this inside its ring is held in the
# ring by behaviour or a single identifier only: the ban preview calls that weak evidence.
STRONG_SHARED_VALUES = 2
# One usage bucket wide enough to hold all data (200 years).
ALL_TIME_MINUTES = 200 * 366 * 24 * 60


def _share(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else 0.0


def _traffic(engine: Engine, account_ids) -> dict:
    """Requests and output tokens of these accounts, and their share of all traffic.

    Summed in the store (one bucket spanning all time): no per-account usage in memory.
    """
    groups = pd.DataFrame({"account_id": list(account_ids), "group": "picked"})
    use = engine.usage_by_group(groups, ALL_TIME_MINUTES, pd.Timestamp("1970-01-01"))
    picked = use[use["group"] == "picked"]
    requests, tokens = int(picked["requests"].sum()), int(picked["output_tokens"].sum())
    return {"requests": requests, "requests_share": _share(requests, use["requests"].sum()),
            "output_tokens": tokens, "output_tokens_share": _share(tokens, use["output_tokens"].sum())}


def headline(engine: Engine) -> dict:
    """Headline figures: accounts, linked groups, rings flagged and held back, flagged accounts, flagged share of
    traffic. ``ring_counts`` holds the groups by status as every page labels them (``case_views.ring_counts``).

    Accounts and traffic come from the counts detection precomputed (``overview_tables``), not from every account.
    """
    traffic = overview_tables.stored(engine)["traffic"].set_index("status")
    flagged = traffic.reindex([STATUSES[0]]).fillna(0).iloc[0]
    rings = engine.results("rings", columns=["ring_id", "flagged"])
    runs = engine.results("runs")
    counts = ring_counts(engine, rings)
    return {
        "accounts": int(traffic["accounts"].sum()),
        "linked_groups": len(rings),
        "rings": counts[RING_COUNT_LABELS["flagged"]],
        "rings_held_back": counts[RING_COUNT_LABELS["held_back"]],
        "ring_counts": counts,
        "flagged_accounts": int(flagged["accounts"]),
        "requests_share": _share(flagged["requests"], traffic["requests"].sum()),
        "output_tokens_share": _share(flagged["output_tokens"], traffic["output_tokens"].sum()),
        "suppressed_hubs": len(engine.results("suppressed_hubs")),
        "finished_at": runs["finished_at"].max() if len(runs) else None,
    }


def risk_distribution(engine: Engine) -> pd.DataFrame:
    """Accounts in linked groups per risk-score bin and status (the rest score 0): risk_from, status, accounts.

    Bins are ``overview_tables.RISK_BIN`` wide, counted once per detection run.
    """
    return overview_tables.stored(engine)["risk_bins"]


def ring_list(engine: Engine, include_benign: bool = False) -> pd.DataFrame:
    """Scored linked groups, highest risk first, with their status and current decision.

    Without ``include_benign``: flagged rings and rings held back by a false-positive decision.
    """
    stored = [c for c in RING_LIST_COLUMNS if c not in ("status", "decision", "verdict")]
    rings = ring_decisions(engine, engine.results("rings", columns=stored))
    if not include_benign:
        rings = rings[rings["status"] != "benign"]
    rings = rings.sort_values(["risk_score", "ring_id"], ascending=[False, True])
    return rings[RING_LIST_COLUMNS].reset_index(drop=True)


def signups_over_time(engine: Engine) -> pd.DataFrame:
    """Signups per day split by flagged or not: period, status, accounts (counted once per detection run)."""
    return overview_tables.stored(engine)["signups_daily"][["period", "status", "accounts"]]


def suppressed_hubs(engine: Engine) -> pd.DataFrame:
    """Identifier values too widely shared to link anyone: kind, value, accounts."""
    hubs = engine.results("suppressed_hubs")
    return hubs.sort_values(["accounts", "kind", "value"], ascending=[False, True, True]).reset_index(drop=True)


def _rows(**key) -> pd.DataFrame:
    """A one-key frame for ``Engine.results``: the rows whose column holds one of these values."""
    (column, values), = key.items()
    return pd.DataFrame({column: [str(v) for v in values]})


def _ring_row(engine: Engine, ring_id: str) -> pd.Series:
    found = engine.results("rings", _rows(ring_id=[ring_id]))
    if found.empty:
        raise KeyError(f"no ring {ring_id!r} in the last detection run")
    return found.iloc[0]


def ring_detail(engine: Engine, ring_id: str) -> dict:
    """A ring's summary, explanation sentences, per-feature score breakdown and shared evidence."""
    row = _ring_row(engine, ring_id)
    features = json.loads(row["features"] or "{}")
    contrib = json.loads(row["contributions"] or "{}")
    breakdown = pd.DataFrame({"feature": list(features), "value": list(features.values())})
    breakdown["contribution"] = breakdown["feature"].map(contrib).fillna(0.0)
    breakdown = breakdown.sort_values(["contribution", "feature"], ascending=[False, True]).reset_index(drop=True)
    explanation = pd.DataFrame(json.loads(row["explanation"] or "[]"), columns=["weight", "text"])
    ev = engine.results("ring_evidence", _rows(ring_id=[ring_id])).drop(columns="ring_id")
    ev = ev.sort_values(["rarity", "members", "kind", "value"], ascending=[False, False, True, True])
    summary = {k: row[k] for k in ("ring_id", "cluster_id", "size", "risk_score", "flagged", "first_seen",
                                   "last_seen", "top_evidence", "evidence_kinds", "requests", "output_tokens")}
    return {"summary": summary, "explanation": explanation, "breakdown": breakdown,
            "evidence": ev.reset_index(drop=True)}


def _ring_results(engine: Engine, ring_id: str) -> pd.DataFrame:
    """The stored account results of a ring's members."""
    return engine.results("accounts", _rows(cluster_id=[_ring_row(engine, ring_id)["cluster_id"]]))


def ring_members(engine: Engine, ring_id: str) -> pd.DataFrame:
    """Members of a ring with their score, reasons, signup details and usage, highest risk first."""
    res = _ring_results(engine, ring_id)[["account_id", "risk_score", "flagged", "reasons"]]
    ids = res["account_id"].tolist()
    acc = engine.accounts(ids)[
        ["account_id", "created_at", "email", "phone", "ip", "device_id", "payment_id", "user_agent", "country"]]
    use = _member_totals(engine, ids)
    out = res.merge(acc, on="account_id", how="left").merge(use, on="account_id", how="left")
    out[["requests", "input_tokens", "output_tokens"]] = out[["requests", "input_tokens", "output_tokens"]].fillna(0)
    return out.sort_values(["risk_score", "account_id"], ascending=[False, True]).reset_index(drop=True)


def _member_totals(engine: Engine, account_ids: list[str]) -> pd.DataFrame:
    """Requests and tokens per account, summed in the store for these accounts only."""
    use = engine.member_usage(account_ids, ALL_TIME_MINUTES)
    return use.groupby("account_id", as_index=False)[["requests", "input_tokens", "output_tokens"]].sum()


def ring_network(engine: Engine, ring_id: str) -> pd.DataFrame:
    """Account–identifier edges inside a ring, for the values at least two members share: account_id, kind, value.

    A ring joined from fragments by rare prompt templates also gets an edge from each member
    to each of those templates it sent (kind ``prompt``), so the picture shows what holds
    the fragments together.
    """
    members = sorted(_ring_results(engine, ring_id)["account_id"])
    ids = engine.account_identifiers(members)
    shared = ids.groupby(["kind", "value"])["account_id"].transform("nunique") >= 2
    out = ids[shared][EDGE_COLUMNS]
    ev = engine.results("ring_evidence", _rows(ring_id=[ring_id]))
    templates = set(ev.loc[ev["kind"] == "prompt", "value"])
    if templates:
        sent = engine.member_usage(members, 24 * 60)
        sent = sent[sent["prompt_fingerprint"].isin(templates)][["account_id", "prompt_fingerprint"]].drop_duplicates()
        out = pd.concat([out, sent.rename(columns={"prompt_fingerprint": "value"}).assign(kind="prompt")[EDGE_COLUMNS]],
                        ignore_index=True).sort_values(EDGE_COLUMNS).reset_index(drop=True)
    # Keep every member visible even when it shares no signup identifier (linked by behaviour).
    lone = sorted(set(members) - set(out["account_id"]))
    if lone:
        out = pd.concat([out, pd.DataFrame({"account_id": lone, "kind": None, "value": None})], ignore_index=True)
    return out.reset_index(drop=True)


def activity(engine: Engine, account_ids: list[str], bucket_minutes: int = 60) -> pd.DataFrame:
    """Requests per account and time bucket (all prompts): account_id, bucket, requests."""
    use = engine.member_usage(list(account_ids), bucket_minutes)
    if use.empty:
        return pd.DataFrame({"account_id": [], "bucket": pd.Series([], dtype="datetime64[us]"), "requests": []})
    out = use.groupby(["account_id", "bucket"])["requests"].sum().reset_index()
    return out.sort_values(["account_id", "bucket"]).reset_index(drop=True)


def search_terms(query: str, field: str = "any") -> pd.DataFrame:
    """The (kind, value) pairs a raw search text stands for, normalised like ingested data."""
    if field not in SEARCH_FIELDS:
        raise ValueError(f"unknown search field {field!r}; choose one of: {', '.join(SEARCH_FIELDS)}")
    text = (query or "").strip()
    kinds = SEARCH_FIELDS[field]
    rows = []
    if not text:
        return pd.DataFrame(columns=["kind", "value"])
    if "account_id" in kinds:
        rows.append(("account_id", text))
    if "email" in kinds:
        address, _ = normalise_email(text)
        if address:
            rows.append(("email", address))
    if "phone" in kinds:
        phone = normalise_phone(text)
        if phone:
            rows.append(("phone", phone))
    if "ip" in kinds:
        ip, _ = normalise_ip(text)
        if ip:
            rows.append(("ip", ip))
    if "ip_net" in kinds and "/" in text:
        rows.append(("ip_net", text.lower()))
    for kind in ("device", "payment"):
        if kind in kinds:
            value = normalise_text_id(text)
            if value:
                rows.append((kind, value))
    return pd.DataFrame(rows, columns=["kind", "value"]).drop_duplicates().reset_index(drop=True)


def search_accounts(engine: Engine, query: str, field: str = "any", limit: int = 200) -> tuple[pd.DataFrame, bool]:
    """Accounts matching a search (id, email, phone, IP, device or payment id); returns (matches, capped)."""
    terms = search_terms(query, field)
    parts = []
    by_id = terms[terms["kind"] == "account_id"]["value"].tolist()
    if by_id:
        hit = engine.results("accounts", _rows(account_id=by_id))[["account_id"]].assign(matched_kind="account_id")
        parts.append(hit.assign(matched_value=hit["account_id"]))
    wanted = terms[terms["kind"] != "account_id"]
    if len(wanted):
        held = engine.value_accounts(wanted, per_value=limit + 1, limit=limit + 1)
        parts.append(held.rename(columns={"kind": "matched_kind", "value": "matched_value"})[
            ["account_id", "matched_kind", "matched_value"]])
    if not parts:
        return pd.DataFrame(columns=["account_id", "matched_kind", "matched_value", "ring_id", "risk_score",
                                     "flagged"]), False
    hits = pd.concat(parts, ignore_index=True).drop_duplicates()
    res = engine.results("accounts", _rows(account_id=hits["account_id"].unique()))
    hits = hits.merge(res[["account_id", "ring_id", "risk_score", "flagged"]], on="account_id", how="left").sort_values(["account_id", "matched_kind"])
    return hits.head(limit).reset_index(drop=True), len(hits) > limit


def account_profile(engine: Engine, account_id: str) -> dict:
    """One account: signup row, detection result, identifiers and usage totals."""
    row = engine.accounts([account_id])
    if row.empty:
        raise KeyError(f"no account {account_id!r} in this store")
    result = engine.results("accounts", _rows(account_id=[account_id]))
    daily = engine.member_usage([account_id], 24 * 60)
    usage = {} if daily.empty else {
        **{k: int(daily[k].sum()) for k in ("requests", "input_tokens", "output_tokens")},
        "first_day": pd.to_datetime(daily["bucket"]).min(), "last_day": pd.to_datetime(daily["bucket"]).max(),
        "active_days": int(daily["bucket"].nunique()), "prompts": int(daily["prompt_fingerprint"].nunique()),
    }
    return {
        "signup": row.iloc[0].to_dict(),
        "result": result.iloc[0].to_dict() if len(result) else {},
        "identifiers": engine.account_identifiers([account_id])[EDGE_COLUMNS],
        "usage": usage,
    }


def _traversable(ids: pd.DataFrame) -> pd.DataFrame:
    """Identifier values that can link accounts: free-mail domains link no one."""
    free = (ids["kind"] == "email_domain") & ids["value"].map(is_free_email_domain)
    return ids[~free]


def neighbourhood(engine: Engine, account_id: str, hops: int = 1, limit: int = 300,
                  per_value: int = 50) -> tuple[pd.DataFrame, bool]:
    """Account–identifier edges up to ``hops`` account hops out; returns (edges, capped).

    At most ``per_value`` accounts are followed through one identifier value and at most
    ``limit`` edges are returned; ``capped`` says whether anything was left out. Columns:
    account_id, kind, value, holders (accounts holding the value in all).
    """
    frontier, seen = {account_id}, set()
    edges = pd.DataFrame(columns=[*EDGE_COLUMNS, "holders"])
    capped = False
    for _ in range(max(1, hops)):
        ids = _traversable(engine.account_identifiers(sorted(frontier))[EDGE_COLUMNS])
        if ids.empty:
            break
        held = engine.value_accounts(ids[["kind", "value"]], per_value=per_value, limit=limit + 1)
        capped = capped or len(held) > limit or bool((held["holders"] > per_value).any())
        edges = pd.concat([edges, held], ignore_index=True).drop_duplicates(EDGE_COLUMNS)
        seen |= frontier
        frontier = set(held["account_id"]) - seen
        if not frontier or len(edges) > limit:
            break
    if len(edges) > limit:
        capped = True
        # Keep the start account's own edges first so the centre of the picture survives the cut.
        own = edges["account_id"] == account_id
        edges = pd.concat([edges[own], edges[~own]]).head(limit)
    edges["holders"] = edges["holders"].astype("int64")
    return edges.reset_index(drop=True), capped


def _selection(rings=None, min_score=None, max_score=None) -> dict:
    return {"rings": list(rings) if rings else None, "min_score": min_score, "max_score": max_score}


def ban_list(engine: Engine, rings=None, min_score: float | None = None, max_score: float | None = None) -> pd.DataFrame:
    """The ban list rows for a selection: exactly `ringwatch export bans`' rows."""
    return bans_table(engine, **_selection(rings, min_score, max_score))


def ban_preview(engine: Engine, rings=None, min_score: float | None = None,
                max_score: float | None = None) -> dict:
    """Blast radius of a ban selection: accounts, rings, weak-evidence accounts, share of traffic and tokens."""
    bans = ban_list(engine, rings, min_score, max_score)
    weak = weak_evidence_accounts(engine, bans)
    return {
        "accounts": len(bans),
        "rings": int(bans["ring_id"].nunique()),
        "weak_evidence": len(weak),
        **_traffic(engine, bans["account_id"]),
        "weak_accounts": weak,
    }


def weak_evidence_accounts(engine: Engine, bans: pd.DataFrame) -> pd.DataFrame:
    """Banned accounts sharing fewer than two identifier values with their ring: account_id, ring_id, shared_values."""
    if bans.empty:
        return pd.DataFrame({"account_id": [], "ring_id": [], "shared_values": []})
    ids = engine.account_identifiers(bans["account_id"].tolist()).merge(bans[["account_id", "ring_id"]], on="account_id")
    ev = engine.results("ring_evidence", _rows(ring_id=bans["ring_id"].dropna().unique()))[["ring_id", "kind", "value"]]
    shared = ids.merge(ev, on=["ring_id", "kind", "value"]).groupby("account_id").size()
    out = bans[["account_id", "ring_id"]].copy()
    out["shared_values"] = out["account_id"].map(shared).fillna(0).astype(int)
    return out[out["shared_values"] < STRONG_SHARED_VALUES].reset_index(drop=True)
