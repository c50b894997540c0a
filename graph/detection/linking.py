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

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import pandas as pd

from ..engines import Engine, LinkPolicy
from .coregistration import RUN_COLUMNS, coregistration_evidence
from .frames import is_in, run_starts
from .kinds import BEHAVIOUR, NETWORK, kind_table
from .params import DetectionParams
from .pools import pool_evidence, pool_pairs
from .similarity import coactivity_evidence, similar_pairs

STRONG_COLUMNS = ["a", "b", "weight", "families", "lockstep", "pool_hours"]
# A family adds to a link only with at least this much evidence (a hub-sized value adds ~0).
MIN_FAMILY_SCORE = 0.2
# Evidence rows judged together by ``strong_links`` (a slice of the store's pairs).
CHUNK_ROWS = 4_000_000


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
    asked = _Asked(engine, params, total_accounts, runs)
    shared = engine.pair_evidence(asked.policy, keep_pairs=asked.keep).assign(similarity=float("nan"))
    ids = engine.accounts()["account_id"].to_numpy() if ids is None else ids
    pooled = pool_evidence(engine, pool_pairs(shared, params), ids, total_accounts)
    return _joined([shared, asked.coactive, asked.together, pooled]), asked.policy


def linked_pairs(engine: Engine, params: DetectionParams, total_accounts: int,
                 runs: pd.DataFrame | None = None, ids: np.ndarray | None = None) -> tuple[pd.DataFrame, LinkPolicy]:
    """``strong_links`` of ``pair_evidence``, without holding every pair's evidence at once; and the policy asked.

    The engine returns the evidence in parts, by ranges of ``a`` (``Engine.pair_evidence_parts``),
    and each part is judged when it arrives, with the co-activity and co-registration of its
    pairs. A pair with pool evidence is judged last, with all of its rows: pool timing is
    scored against the activity of every pool pair together (``pools``). Each pair is judged
    on the same rows, in the same order, as in one pass, and the links come out in pair order.
    """
    asked = _Asked(engine, params, total_accounts, runs)
    judged, judging = [], None
    # A part is judged on another thread while the engine makes the next one (on this thread, the only one
    # that asks it); at most two parts are held at once.
    with ThreadPoolExecutor(1, thread_name_prefix="ringwatch-judge") as pool:
        for lo, hi, shared in engine.pair_evidence_parts(asked.policy, keep_pairs=asked.keep):
            if judging is not None:
                judged.append(judging.result())
            judging = pool.submit(_judged_part, asked, params, lo, hi, shared)
            del shared
        if judging is not None:
            judged.append(judging.result())
    links, held, pools = ([part[i] for part in judged] for i in range(3))
    pairs = pd.concat(pools, ignore_index=True)
    if len(pairs):
        ids = engine.accounts()["account_id"].to_numpy() if ids is None else ids
        timing = pool_evidence(engine, pairs, ids, total_accounts)
        links.append(strong_links(_joined([*held, timing]), params, asked.policy))
    links = [frame for frame in links if len(frame)]
    if not links:
        return pd.DataFrame(columns=STRONG_COLUMNS), asked.policy
    out = pd.concat(links, ignore_index=True)
    order = np.argsort(_packed(out), kind="stable")
    return out.take(order).reset_index(drop=True), asked.policy


def _judged_part(asked: _Asked, params: DetectionParams, lo: int, hi: int, shared: pd.DataFrame):
    """One part of the pairs (``a`` in [lo, hi)): its strong links but those of pool pairs, the pool pairs'
    evidence (judged last, with their timing) and the pool pairs."""
    shared = shared.assign(similarity=float("nan"))
    part = _joined([shared, *(_within(rows, lo, hi) for rows in (asked.coactive, asked.together))])
    pairs = pool_pairs(shared, params)
    pooled = is_in(pd.Series(_packed(part)), _packed(pairs))
    return strong_links(part[~pooled], params, asked.policy), part[pooled], pairs


class _Asked:
    """What a run asks about pairs beside shared identifiers: co-activity, co-registration, the
    identifier policy, and the pairs those two may link (which keep their identifier evidence too)."""

    def __init__(self, engine: Engine, params: DetectionParams, total_accounts: int, runs: pd.DataFrame | None):
        similar = similar_pairs(engine, params)
        self.together = coregistration_evidence(pd.DataFrame(columns=RUN_COLUMNS) if runs is None else runs,
                                                params, total_accounts)
        self.coactive = coactivity_evidence(similar)
        self.policy = link_policy(engine, params, total_accounts)
        self.keep = pd.concat([similar[["a", "b"]], self.together[["a", "b"]]], ignore_index=True)


def _packed(pairs: pd.DataFrame) -> np.ndarray:
    """Each pair of account numbers (a, b) as one integer."""
    return (pairs["a"].to_numpy(np.int64) << 32) | pairs["b"].to_numpy(np.int64)


def _within(rows: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """The evidence rows whose ``a`` is in [lo, hi)."""
    a = rows["a"].to_numpy()
    return rows[(a >= lo) & (a < hi)]


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The evidence parts as one frame whose family is a category of the families present.

    Every part gets the same categories first: parts whose families differ in type or
    categories would be joined as text, a Python string per row of millions.
    """
    names = sorted(set().union(*(_present(part["family"]) for part in parts)))
    return pd.concat([part.assign(family=_as_category(part["family"], names)) for part in parts], ignore_index=True)


def _as_category(family: pd.Series, names: list[str]) -> pd.Series:
    """``family`` as a category of exactly ``names`` (which hold every family it has)."""
    if isinstance(family.dtype, pd.CategoricalDtype):
        return family.cat.remove_unused_categories().cat.set_categories(names)
    return pd.Series(pd.Categorical(family, categories=names), index=family.index)


def _present(family: pd.Series) -> set[str]:
    """The family names a column holds."""
    if isinstance(family.dtype, pd.CategoricalDtype):
        codes = family.cat.codes.to_numpy()
        return set(family.cat.categories[np.unique(codes[codes >= 0])].astype(str))
    return set(family.dropna().astype(str).unique())


def strong_links(evidence: pd.DataFrame, params: DetectionParams, policy: LinkPolicy) -> pd.DataFrame:
    """Pairs with enough independent evidence: a, b, weight, families, lockstep, pool_hours.

    ``pool_hours`` is the hours a pair was active in step through a shared address pool
    when that counted (``pools``), else 0, so explanations can say so. The rule looks at
    one pair at a time, so the evidence is judged in slices of about ``CHUNK_ROWS`` rows
    by ranges of ``a``: the sorted copies the rule makes stay that size however many
    pairs a large store has, and the links come out in pair order as from one pass.
    """
    if evidence.empty:
        return pd.DataFrame(columns=STRONG_COLUMNS)
    if len(evidence) <= CHUNK_ROWS:
        return _strong(evidence, params, policy)
    codes, _ = pd.factorize(evidence["a"], sort=True)
    edges = np.unique(np.sort(codes)[::CHUNK_ROWS])
    piece = np.searchsorted(edges, codes, side="right") - 1
    # A stable order keeps each pair's rows in their given order, as one pass sees them.
    order = np.argsort(piece, kind="stable")
    bounds = np.searchsorted(piece[order], np.arange(len(edges) + 1))
    parts = [_strong(evidence.take(order[lo:hi]), params, policy) for lo, hi in pairwise(bounds)]
    return pd.concat(parts, ignore_index=True)


def _strong(evidence: pd.DataFrame, params: DetectionParams, policy: LinkPolicy) -> pd.DataFrame:
    """``strong_links`` on evidence rows holding every row of each of their pairs."""
    ev = _Grouped(evidence)
    pairs = len(ev.pair_start)

    def any_row(rows: np.ndarray) -> np.ndarray:
        return np.bincount(ev.row_pair, weights=rows, minlength=pairs) > 0

    # A family links alone when it is overwhelming (many rare templates in common, a phone
    # no one else has); other families need a second, independent one. A signup run strong
    # enough links on its own too.
    bar = policy.kind_table().drop_duplicates("family").set_index("family")["alone"].astype(float)
    family_bar = bar.reindex(ev.family_names).to_numpy()[ev.family[ev.fam_start]]
    alone = np.bincount(ev.fam_pair, weights=ev.fam_score >= family_bar, minlength=pairs) > 0
    alone |= any_row(ev.rows_of("coregistration") & (ev.score >= params.behaviour_alone))
    capped = np.minimum(ev.fam_score, 1.0)
    counted = capped >= MIN_FAMILY_SCORE
    weight = np.bincount(ev.fam_pair, weights=np.where(counted, capped, 0.0), minlength=pairs)
    families = np.bincount(ev.fam_pair, weights=counted, minlength=pairs).astype(np.int64)
    lockstep = alone | any_row(ev.rows_of("coactivity") & (ev.similarity >= params.lockstep_similarity)
                               & (ev.shared >= params.lockstep_common))
    pool = ev.rows_of("pool_activity") & (ev.score >= MIN_FAMILY_SCORE)
    pool_hours = np.bincount(ev.row_pair, weights=np.where(pool, ev.shared, 0), minlength=pairs).astype(int)
    keep = (families > 0) & (((weight >= params.link_threshold) & (families >= params.min_families)) | lockstep)
    return pd.DataFrame({"a": ev.a[ev.pair_start][keep], "b": ev.b[ev.pair_start][keep], "weight": weight[keep],
                         "families": families[keep], "lockstep": lockstep[keep], "pool_hours": pool_hours[keep]})


class _Grouped:
    """Evidence rows sorted by pair, then family, with where each pair and each (pair, family) begins.

    Co-activity and pool co-activity are behaviour too: they join that family for the
    two-family rule. Co-registration is timing on one address, so it adds to the network
    family and is no second family beside it.
    """

    def __init__(self, evidence: pd.DataFrame):
        raw = evidence["family"].astype("category")
        self.kinds = raw.cat.categories
        names = self.kinds.astype(object).to_series().replace(
            {"coactivity": BEHAVIOUR, "pool_activity": BEHAVIOUR, "coregistration": NETWORK}).to_numpy()
        self.family_names, family_of = np.unique(names.astype(str), return_inverse=True)
        codes = raw.cat.codes.to_numpy()
        a, b = evidence["a"].to_numpy(), evidence["b"].to_numpy()
        order = np.lexsort((family_of[codes], _pair_key(a, b)))
        self.a, self.b, self.codes = a[order], b[order], codes[order]
        self.family = family_of[self.codes]
        self.score = evidence["score"].to_numpy(np.float64)[order]
        self.similarity = evidence["similarity"].to_numpy(np.float64)[order]
        self.shared = evidence["shared"].to_numpy(np.float64)[order]
        new_pair = run_starts(self.a, self.b)
        self.pair_start, self.row_pair = np.flatnonzero(new_pair), np.cumsum(new_pair) - 1
        self.fam_start = np.flatnonzero(new_pair | run_starts(self.family))
        self.fam_score = np.add.reduceat(self.score, self.fam_start) if len(self.score) else self.score
        self.fam_pair = self.row_pair[self.fam_start]

    def rows_of(self, kind: str) -> np.ndarray:
        """Which rows are of this evidence family (as the evidence names it)."""
        return self.codes == (self.kinds.get_loc(kind) if kind in self.kinds else -2)


def _pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One sortable key per (a, b): both account numbers (else their ranks) packed in one integer."""
    if a.dtype.kind in "iu" and b.dtype.kind in "iu" and (len(a) == 0 or (min(a.min(), b.min()) >= 0
                                                                           and max(a.max(), b.max()) < 2**31)):
        return (a.astype(np.int64) << 32) | b.astype(np.int64)
    return (pd.factorize(a, sort=True)[0].astype(np.int64) << 32) | pd.factorize(b, sort=True)[0].astype(np.int64)
