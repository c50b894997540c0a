"""Read models that lead with the account: each member's own evidence and score, and one account's timeline.

A ring's members all carry their ring's text and, in a ring whose members all show its
evidence, its score. What tells one member from another is what the detector counted for
that account itself: the ring's shared values it holds (``ring_evidence``, where nothing
the detector discounts appears), the "this account: …" head of its stored reasons and its
strong-link count. Everything here is read back from stored results, never re-scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..detection.kinds import kind_info
from ..engines import Engine, NotSupported
from ..engines.policy import bucket_start
from .views import ring_members

OWN_HEAD = "this account: "
STRONG_LINKS = "strong links: "
OWN_COLUMNS = ["account_id", "shared_values", "own_score", "own_evidence", "strong_links"]
MEMBER_TABLE_COLUMNS = ["account_id", "own_score", "own_evidence", "shared_values", "strong_links", "risk_score",
                        "flagged", "ring_reasons", "created_at", "email", "phone", "ip", "device_id", "payment_id",
                        "user_agent", "country", "requests", "input_tokens", "output_tokens"]
TIMELINE_KINDS = {"model": "model", "template": "prompt_fingerprint", "request IP": "ip"}
COMPARE_COLUMNS = ["account_id", "bucket", "requests", "output_tokens"]


def split_reasons(text) -> dict:
    """A stored reasons line split into own (the account's evidence), ring (its ring's text) and strong_links.

    The detector writes ``this account: A; B | <ring text> | strong links: N``
    (``detection.explanations.member_reasons``); a line of another shape is all ring text.
    """
    parts = [p.strip() for p in str(text or "").split(" | ")]
    own = parts.pop(0)[len(OWN_HEAD):] if parts and parts[0].startswith(OWN_HEAD) else ""
    strong = None
    if parts and parts[-1].startswith(STRONG_LINKS) and parts[-1][len(STRONG_LINKS):].isdigit():
        strong = int(parts.pop()[len(STRONG_LINKS):])
    return {"own": own, "ring": " | ".join(parts), "strong_links": strong}


def own_evidence(engine: Engine, members: pd.DataFrame) -> pd.DataFrame:
    """Per account (``members``: account_id, ring_id, reasons): the ring's shared values it holds and its own score.

    ``shared_values`` counts the ring's shared signup identifier values the account holds:
    the values its own reasons cite (``explanations._own_shares``) and the ban preview's weak
    evidence counts. ``own_score`` is ``1 − Π(1 − kind weight × rarity)`` over those values,
    with the weights and rarities the detector counted them with, so one rare card or phone
    counts for much and several weak values add up; 0 for an account that holds none (in
    its ring through behaviour or through other members). Columns: ``OWN_COLUMNS``.
    """
    if members.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OWN_COLUMNS})
    ids = members["account_id"].astype(str).tolist()
    held = engine.account_identifiers(ids)[["account_id", "kind", "value"]]
    rings = pd.DataFrame({"ring_id": members["ring_id"].dropna().astype(str).unique()})
    ev = engine.results("ring_evidence", rings)[["ring_id", "kind", "value", "rarity"]]
    held = held.drop_duplicates().merge(members[["account_id", "ring_id"]], on="account_id")
    held = held.merge(ev, on=["ring_id", "kind", "value"])
    strength = held["kind"].map(lambda k: kind_info(k).weight).astype(float) * held["rarity"].astype(float)
    held["miss"] = np.log1p(-strength.clip(upper=0.999999))
    per = held.groupby("account_id").agg(shared_values=("value", "size"), miss=("miss", "sum"))
    out = members[["account_id"]].copy()
    out["shared_values"] = out["account_id"].map(per["shared_values"]).fillna(0).astype(int)
    out["own_score"] = (1 - np.exp(out["account_id"].map(per["miss"]).fillna(0.0))).round(4)
    split = [split_reasons(r) for r in members["reasons"]]
    out["own_evidence"] = [s["own"] for s in split]
    out["strong_links"] = pd.array([s["strong_links"] for s in split], dtype="Int64")
    return out[OWN_COLUMNS].reset_index(drop=True)


def member_table(engine: Engine, ring_id: str) -> pd.DataFrame:
    """A ring's members, each row led by the account's own evidence and score, strongest own evidence first."""
    members = ring_members(engine, ring_id)
    own = own_evidence(engine, members.assign(ring_id=ring_id))
    out = members.merge(own, on="account_id", how="left")
    out["ring_reasons"] = [split_reasons(r)["ring"] for r in out["reasons"]]
    out = out.sort_values(["own_score", "risk_score", "account_id"], ascending=[False, False, True])
    return out[MEMBER_TABLE_COLUMNS].reset_index(drop=True)


def ban_table(engine: Engine, bans: pd.DataFrame) -> pd.DataFrame:
    """Ban-list rows (``views.ban_list``) led by each account's own evidence and score; same rows, same order."""
    out = bans.merge(own_evidence(engine, bans), on="account_id", how="left")
    out["ring_reasons"] = [split_reasons(r)["ring"] for r in out["reasons"]]
    return out[["account_id", "own_score", "own_evidence", "shared_values", "strong_links", "risk_score", "ring_id",
                "ring_reasons"]]


def _usage_rows(engine: Engine, account_id: str) -> tuple[pd.DataFrame, bool]:
    """The account's usage rows and whether they are per request (False: the engine answers only sums)."""
    try:
        return engine.usage_rows([account_id]), True
    except NotSupported:
        use = engine.member_usage([account_id], 60).rename(columns={"bucket": "ts"})
        return use.assign(ip=None, model=None), False


def account_timeline(engine: Engine, account_id: str, bucket_minutes: int = 24 * 60) -> dict:
    """One account's usage over time, per bucket of ``bucket_minutes``.

    Returns ``totals`` (bucket, requests, output_tokens), ``by`` (measure, bucket, value,
    requests: requests per model, template and request IP in each bucket; a row with no
    value counts as "(none)") and ``detailed`` (False when the engine keeps no request IP
    or model per row, so only totals and templates are shown).
    """
    use, detailed = _usage_rows(engine, account_id)
    if use.empty:
        empty = pd.Series([], dtype="datetime64[us]")
        return {"totals": pd.DataFrame({"bucket": empty, "requests": [], "output_tokens": []}),
                "by": pd.DataFrame({"measure": [], "bucket": empty, "value": [], "requests": []}), "detailed": detailed}
    use = use.assign(bucket=bucket_start(use["ts"], bucket_minutes),
                     requests=use["requests"].fillna(1), output_tokens=use["output_tokens"].fillna(0))
    totals = use.groupby("bucket", as_index=False)[["requests", "output_tokens"]].sum()
    parts = []
    for measure, column in TIMELINE_KINDS.items():
        if detailed or column == "prompt_fingerprint":
            per = use.assign(value=use[column].fillna("(none)").astype(str))
            per = per.groupby(["bucket", "value"], as_index=False)["requests"].sum()
            parts.append(per.assign(measure=measure))
    by = pd.concat(parts, ignore_index=True)[["measure", "bucket", "value", "requests"]]
    totals[["requests", "output_tokens"]] = totals[["requests", "output_tokens"]].astype("int64")
    by["requests"] = by["requests"].astype("int64")
    return {"totals": totals, "by": by.sort_values(["measure", "bucket", "value"]).reset_index(drop=True),
            "detailed": detailed}


def member_comparison(engine: Engine, account_ids: list[str], bucket_minutes: int = 24 * 60) -> pd.DataFrame:
    """Requests and output tokens per account and bucket, for comparing an account with its ring's members."""
    use = engine.member_usage(list(account_ids), bucket_minutes)
    if use.empty:
        return pd.DataFrame({"account_id": [], "bucket": pd.Series([], dtype="datetime64[us]"), "requests": [],
                             "output_tokens": []})
    out = use.groupby(["account_id", "bucket"], as_index=False)[["requests", "output_tokens"]].sum()
    out[["requests", "output_tokens"]] = out[["requests", "output_tokens"]].fillna(0).astype("int64")
    return out[COMPARE_COLUMNS].sort_values(["account_id", "bucket"]).reset_index(drop=True)
