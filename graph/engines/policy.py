"""The link policy and the co-activity policy, declared once; every engine translates them.

Two questions must get the same answer from every engine: which account pairs share enough
identifier evidence (``LinkPolicy``), and how similar two accounts' activity is
(``SimilarityPolicy``). Their parameters and rules live here, with a plain pandas
implementation of each rule (``pair_evidence``, ``node_similarity``) that is the
reference: the base engine uses it when an engine has nothing faster, and the engine
contract suite checks every engine's own translation (SQL, Cypher, GDS) against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .columns import DEGREE_COLUMNS, HISTOGRAM_COLUMNS, PAIR_COLUMNS, SIMILARITY_COLUMNS

# DuckDB's time_bucket counts minute buckets from this origin; every engine uses it, so
# buckets agree across engines.
BUCKET_ORIGIN = pd.Timestamp("2000-01-03")
# Above every account number (pair results number accounts as 32-bit integers).
ACCOUNT_NUMBERS = 2**31 - 1


def rarity(degree, total_accounts: int) -> np.ndarray:
    """IDF-style weight in [0, 1]: ``ln(N/n) / ln(N/2)``, 1 for a value two accounts share, falling as it spreads."""
    total = max(int(total_accounts), 3)
    deg = np.maximum(np.asarray(degree, dtype=float), 2.0)
    return np.clip(np.log(total / deg) / np.log(total / 2.0), 0.0, 1.0)


@dataclass(frozen=True)
class LinkPolicy:
    """Which shared identifier values link which account pairs, and with how much evidence.

    Each value shared by ``n`` accounts (2 <= n <= ``hub_cap``) adds
    ``weight(kind) * max(0, ln(N/n) / ln(N/2))`` to its family (``kinds``: kind, family,
    weight, alone; a kind not listed links nothing). Values with ``n <= pair_cap`` link all
    their pairs; larger ones link each account to the value's first ``anchors`` accounts
    (by account number), which keeps large groups connected without enumerating n² pairs.
    A pair is kept when its family scores, each capped at 1, add up to ``min_total``, when
    one family's score reaches that family's ``alone`` score (empty: the family never links
    on its own), when one family's uncapped score reaches ``keep_score`` (the caller looks
    further at such pairs: many addresses in common are a pool, not a place), or when it
    is asked for by the caller (co-activity pairs whose identifier evidence is needed
    whatever its size).
    """

    kinds: pd.DataFrame
    hub_cap: int
    pair_cap: int
    anchors: int
    total_accounts: int
    min_total: float
    keep_score: float = math.inf

    @property
    def keep_bar(self) -> float:
        """``keep_score`` as a finite number an engine can send as a parameter (1e300 for "never")."""
        return float(min(self.keep_score, 1e300))

    @property
    def total(self) -> float:
        """N in the rarity weight: the store's accounts, at least 3 so ln(N/2) > 0."""
        return float(max(int(self.total_accounts), 3))

    def kind_table(self) -> pd.DataFrame:
        """kind, family, weight, alone (NaN where a family never links alone)."""
        kinds = self.kinds if "alone" in self.kinds else self.kinds.assign(alone=np.nan)
        return kinds[["kind", "family", "weight", "alone"]].astype({"weight": float, "alone": float})

    def kind_rows(self) -> list[dict]:
        """kind, family, weight, alone of every linking kind, as plain rows (alone None where a family never links alone)."""
        rows = self.kind_table().to_dict("records")
        return [{**r, "alone": None if pd.isna(r["alone"]) else float(r["alone"])} for r in rows]


@dataclass(frozen=True)
class SimilarityPolicy:
    """Co-activity as Neo4j Graph Data Science Node Similarity computes it.

    Accounts act on (prompt fingerprint, time bucket) nodes, weighted by requests. Similarity
    is weighted Jaccard, ``sum(min) / sum(max)``. Fingerprints used by more than
    ``max_template_accounts`` accounts are popular templates and are not projected; accounts
    with fewer than ``degree_cutoff`` activity nodes are skipped; a pair is kept when its
    similarity is at least ``cutoff`` and it is among the ``top_k`` most similar of either
    account (ties broken by account number).
    """

    bucket_minutes: int
    max_template_accounts: int
    top_k: int
    cutoff: float
    degree_cutoff: int


def bucket_start(ts: pd.Series, minutes: int, origin: pd.Timestamp = BUCKET_ORIGIN) -> pd.Series:
    """The start of each timestamp's bucket of ``minutes``, counted from ``origin`` (DuckDB's time_bucket)."""
    width = pd.Timedelta(minutes=int(minutes))
    ts = pd.to_datetime(ts)
    return origin + ((ts - origin) // width) * width


def links(identifiers: pd.DataFrame, usage: pd.DataFrame, numbers: pd.Series) -> pd.DataFrame:
    """The links the graph uses, idx (account number), kind, value: signup identifiers, request IPs, prompts."""
    parts = [identifiers[["account_id", "kind", "value"]],
             pd.DataFrame({"account_id": usage["account_id"], "kind": "request_ip", "value": usage["ip"]}),
             pd.DataFrame({"account_id": usage["account_id"], "kind": "prompt", "value": usage["prompt_fingerprint"]})]
    out = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    out = out.assign(idx=out["account_id"].map(numbers)).dropna(subset=["idx"])
    return out.astype({"idx": np.int64})[["idx", "kind", "value"]].drop_duplicates()


def degrees(links: pd.DataFrame) -> pd.DataFrame:
    """Accounts per linked value: kind, value, accounts."""
    return links.groupby(["kind", "value"]).size().rename("accounts").reset_index()[DEGREE_COLUMNS]


def degree_histogram(links: pd.DataFrame) -> pd.DataFrame:
    """How many values of each kind are held by each number of accounts: kind, accounts, values."""
    deg = degrees(links)
    hist = deg.groupby(["kind", "accounts"]).size().rename("values").reset_index()
    return hist.sort_values(["kind", "accounts"])[HISTOGRAM_COLUMNS].reset_index(drop=True).astype(
        {"accounts": np.int64, "values": np.int64})


def pair_evidence(links: pd.DataFrame, policy: LinkPolicy, keep: pd.DataFrame | None = None) -> pd.DataFrame:
    """The link rule on (idx, kind, value) rows: a, b, family, score, shared for every kept pair (a < b)."""
    links = links[["idx", "kind", "value"]].drop_duplicates()
    degree = links.groupby(["kind", "value"])["idx"].transform("size")
    kinds = policy.kind_table()
    rows = links.assign(n=degree)[(degree >= 2) & (degree <= policy.hub_cap)].merge(kinds, on="kind")
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(PAIR_COLUMNS, ["int32", "int32", "object",
                                                                                     "float64", "int64"])})
    rows = rows.sort_values(["kind", "value", "idx"])
    rows["rank"] = rows.groupby(["kind", "value"]).cumcount()
    rows["score"] = np.maximum(np.log(policy.total / rows["n"]) / np.log(policy.total / 2.0), 0.0) * rows["weight"]
    heads = rows[rows["rank"] < np.where(rows["n"] <= policy.pair_cap, rows["n"], policy.anchors)]
    pairs = heads[["kind", "value", "idx", "rank", "family", "score", "alone"]].merge(
        rows[["kind", "value", "idx", "rank"]], on=["kind", "value"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["rank_b"] > pairs["rank_a"]]
    fam = pairs.groupby(["idx_a", "idx_b", "family"]).agg(score=("score", "sum"), shared=("score", "size"),
                                                          alone=("alone", "min")).reset_index()
    fam = fam.rename(columns={"idx_a": "a", "idx_b": "b"})
    capped = fam["score"].clip(upper=1.0).groupby([fam["a"], fam["b"]]).transform("sum")
    alone = (fam["score"] >= fam["alone"]).groupby([fam["a"], fam["b"]]).transform("any")
    alone |= (fam["score"] >= policy.keep_bar).groupby([fam["a"], fam["b"]]).transform("any")
    wanted = pd.Series(False, index=fam.index)
    if keep is not None and len(keep):
        asked = pd.MultiIndex.from_arrays([keep["a"].astype(np.int64), keep["b"].astype(np.int64)])
        wanted = pd.Series(pd.MultiIndex.from_arrays([fam["a"], fam["b"]]).isin(asked), index=fam.index)
    out = fam[(capped >= policy.min_total) | alone | wanted]
    out = out.sort_values(["a", "b", "family"])[PAIR_COLUMNS].reset_index(drop=True)
    return out.astype({"a": "int32", "b": "int32", "score": "float64", "shared": "int64"})


def node_similarity(usage: pd.DataFrame, policy: SimilarityPolicy) -> pd.DataFrame:
    """Weighted Jaccard on (idx, ts, prompt_fingerprint, requests) usage rows: a, b, similarity, common."""
    use = usage.dropna(subset=["prompt_fingerprint"])
    users = use.groupby("prompt_fingerprint")["idx"].transform("nunique")
    use = use[users <= policy.max_template_accounts]
    act = (use.assign(bucket=bucket_start(use["ts"], policy.bucket_minutes), w=use["requests"].astype(float))
           .groupby(["idx", "prompt_fingerprint", "bucket"], as_index=False)["w"].sum())
    per = act.groupby("idx")["w"].agg(["sum", "size"])
    per = per[per["size"] >= policy.degree_cutoff]["sum"]
    act = act[act["idx"].isin(per.index)]
    pairs = act.merge(act, on=["prompt_fingerprint", "bucket"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["idx_a"] < pairs["idx_b"]]
    pairs = pairs.assign(low=np.minimum(pairs["w_a"], pairs["w_b"]))
    sim = pairs.groupby(["idx_a", "idx_b"]).agg(low=("low", "sum"), common=("low", "size")).reset_index()
    sim = sim.rename(columns={"idx_a": "a", "idx_b": "b"})
    sim["similarity"] = sim["low"] / (sim["a"].map(per) + sim["b"].map(per) - sim["low"])
    sim = sim[sim["similarity"] >= policy.cutoff]
    rank_a = sim.sort_values(["a", "similarity", "b"], ascending=[True, False, True]).groupby("a").cumcount()
    rank_b = sim.sort_values(["b", "similarity", "a"], ascending=[True, False, True]).groupby("b").cumcount()
    sim = sim[(rank_a.reindex(sim.index) < policy.top_k) | (rank_b.reindex(sim.index) < policy.top_k)]
    out = sim.sort_values(["a", "b"])[SIMILARITY_COLUMNS].reset_index(drop=True)
    return out.astype({"a": "int32", "b": "int32", "similarity": "float64", "common": "int64"})
