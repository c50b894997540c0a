"""The detection pipeline, written once over the engine seam.

evidence between accounts (``linking``, ``similarity``) -> strong links -> clusters
(``clustering``) -> ring features (``features``) -> consolidation of flagged fragments that
share rare prompt templates (``consolidation``) -> scores and explanations
(``explanations``) -> stored results. Same input and parameters give the same rings, the
same ring ids and the same scores. A ring seen in the previous run keeps that run's id
(``lineage.match_rings``); a ring never seen before is named by a hash of its sorted member
ids. Analysts' false-positive decisions are applied last (``casework.decisions``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from ringwatch.ingest.normalise import is_free_email_domain

from ringwatch.settings import SETTINGS

from ..casework.decisions import apply_feedback
from ..engines import Engine, EngineError
from ..reports.overview_tables import ACCOUNT_FIELDS, overview_tables
from .clustering import clusters
from .consolidation import consolidate, ring_risks
from .coregistration import crowded_share, signup_runs
from .explanations import (
    EVIDENCE_COLUMNS,
    Clustered,
    link_facts,
    score_clusters,
    scored_together,
)
from .features import Baselines, all_cluster_features, email_formats
from .frames import is_in, map_values
from .identity import SharingFrequencies
from .lineage import flagged_ring_ids, match_rings, previous_rings, record_history
from .linking import linked_pairs
from .params import DetectionParams
from .scoring import PRIOR, Model

log = logging.getLogger(__name__)

# The steps a run reports to its progress callback, in order.
DETECTION_STEPS = ("identifier degrees", "pair evidence", "clusters", "ring features", "consolidate", "save")
ACCOUNT_RESULT_COLUMNS = ["account_id", "ring_id", "risk_score", "flagged", "reasons", "cluster_id"]
ACTIVITY_COLUMNS = ["account_id", "bucket", "prompt_fingerprint", "requests", "input_tokens", "output_tokens"]
# What detection reads of every account (signup runs, e-mail formats, crowded domains); the
# clustered accounts' other columns are read for them alone.
POPULATION_COLUMNS = ["created_at", "email", "email_domain", "ip", "ip_net"]


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


def detect(engine: Engine, params: DetectionParams | None = None, progress=None,
           model: Model = PRIOR) -> DetectionSummary:
    """Run detection on everything in the store and save the results tables.

    ``progress`` is called with each name of ``DETECTION_STEPS`` as the run reaches it;
    ``model`` holds the ring score's weights (the documented priors unless given).
    """
    params = params or DetectionParams()
    # Read before the work, so a bad value stops the run before it starts.
    slicing = SETTINGS["cluster_slice"].integer(minimum=1), SETTINGS["slice_threads"].integer(minimum=1)
    step = progress or (lambda label: None)
    started = time.perf_counter()
    accounts = engine.accounts(columns=POPULATION_COLUMNS)
    if accounts.empty:
        raise EngineError("no accounts in this store: run `ringwatch ingest --signups PATH` first")

    step("identifier degrees")
    hubs = engine.identifier_degrees(min_accounts=params.hub_cap + 1).reset_index(drop=True)
    step("pair evidence")
    runs = signup_runs(accounts, params)
    # Judged part by part: the evidence (one row per pair and family, about 12 per account) is never held whole.
    links, _ = linked_pairs(engine, params, len(accounts), runs, accounts["account_id"].to_numpy())
    step("clusters")
    with _beside(engine, _usage_sums) as sums:
        members, facts = _clusters_by_id(engine, accounts, links, params)
    strong, links = len(links), None  # what the members' reasons need of them is in ``facts``
    usage, prompts = sums.result()
    step("ring features")
    previously_flagged = flagged_ring_ids(engine)
    runs = runs.assign(account=accounts["account_id"].to_numpy()[runs["account"].to_numpy(np.int64)])
    base = _baselines(engine, accounts, usage, prompts, runs)
    done, found, table = _slices(engine, base, usage, members, facts, len(accounts), params, model, slicing)
    engine.graph_done()
    step("consolidate")
    table, merges = _consolidated(found, table, members, params, model)
    names, lineage = match_rings(previous_rings(engine), members.groupby("cluster")["account_id"].agg(frozenset),
                                 ring_id)
    scored = scored_together([*done, score_clusters(found, table, names, merges, params, model)], names)
    del done, found

    step("save")
    tables = _result_tables(accounts, scored, hubs, params)
    apply_feedback(engine, tables)
    tables.update(overview_tables(_account_fields(accounts, usage, tables["accounts"])))
    summary = DetectionSummary(
        accounts=len(accounts), links=strong, clusters=len(scored["clusters"]),
        rings=int(scored["clusters"]["flagged"].sum()) if len(scored["clusters"]) else 0,
        flagged_accounts=int(tables["accounts"]["flagged"].sum()), suppressed_hubs=len(hubs),
        seconds=round(time.perf_counter() - started, 2),
    )
    finished = pd.Timestamp.now(tz="UTC").tz_localize(None)
    run_params = json.dumps({**params.as_dict(), "model": model.version})
    tables["runs"] = pd.DataFrame([{"finished_at": finished, "params": run_params, **asdict(summary)}])
    data_until = pd.to_datetime(usage["last_ts"]).max() if len(usage) else None
    # One unit of work: a run killed at any point leaves the previous run's results and
    # lineage, or this run's, never results without the lineage that says how rings changed.
    with engine.transaction():
        engine.save_results(tables)
        record_history(engine, lineage, tables["rings"], previously_flagged, finished, data_until)
    return summary


def _usage_sums(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store-wide usage sums the ring features compare against: per account and per prompt template."""
    return engine.usage_summary(), engine.prompt_summary()


@contextmanager
def _beside(engine: Engine, read):
    """``read(engine)`` on another thread through the engine's side reader while the block runs
    (clustering is one thread's work; the store answers on others), or after the block when
    the engine has no side reader. Yields a future of its result."""
    reader = engine.side_reader()
    if reader is None:
        done: Future = Future()
        yield done
        done.set_result(read(engine))
        return
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="ringwatch-side-reader") as pool:
            later = pool.submit(read, reader)
            yield later
            later.result()
    finally:
        reader.close()


def _clusters_by_id(engine: Engine, accounts: pd.DataFrame, links: pd.DataFrame, params: DetectionParams):
    """Clusters of at least ``min_ring_size`` accounts (account_id, cluster), and what each of their members'
    strong links show (``explanations.link_facts``), by account id.

    Pair results number accounts by their position in account-id order.
    """
    cl = clusters(engine, links, params)
    ids = pa.array(accounts["account_id"], type=pa.string(), from_pandas=True)

    def named(numbers: pd.Series) -> pd.Series:
        # Arrow takes the ids by position: no Python string per row of millions of accounts.
        return pd.Series(pd.array(ids.take(pa.array(numbers.to_numpy(dtype=np.int64))), dtype="str"),
                         index=numbers.index)

    numbers = cl["account_id"].to_numpy(dtype=np.int64)
    cl["account_id"], cl["cluster"] = named(cl["account_id"]), named(cl["cluster"])
    sizes = cl["cluster"].value_counts()
    kept = (cl["cluster"].map(sizes) >= params.min_ring_size).to_numpy(dtype=bool)
    members = cl[kept]
    return members, link_facts(links, numbers[kept], members["account_id"])


def cluster_slices(members: pd.DataFrame, accounts: int) -> list[pd.DataFrame]:
    """``members`` (account_id, cluster) cut into slices of whole clusters, in cluster-key order, of at most
    ``accounts`` members each (a larger cluster is a slice of its own); always at least one slice."""
    sizes = members["cluster"].value_counts().sort_index()
    slice_of, filled, current = np.zeros(len(sizes), dtype=np.int64), 0, 0
    for i, n in enumerate(sizes.to_numpy()):
        if filled and filled + n > accounts:
            current, filled = current + 1, 0
        slice_of[i], filled = current, filled + n
    number = map_values(members["cluster"], pd.Series(slice_of, index=sizes.index)).to_numpy()
    return [members[number == k] for k in range(current + 1)]


def _slices(engine: Engine, base: Baselines, usage, members, facts, total: int, params: DetectionParams,
            model: Model, slicing: tuple[int, int]) -> tuple[list[dict], Clustered, pd.DataFrame]:
    """Ring features of every cluster, a slice of clusters at a time (``cluster_slices``): a cluster that cannot be
    a ring is scored with its slice and let go; the ring candidates' rows and features are returned, for
    consolidation to join fragments across slices. Returns (the slices' scores, the candidates, their features).

    ``slicing`` is (the most accounts in a slice, the slices scored at once): each slice on a thread (pandas and
    Arrow let go of the interpreter for much of the work, and the store reads the next slice meanwhile); the
    store is asked on this thread alone. A slice's result does not depend on the others', and results are
    taken in slice order.
    """
    most, threads = slicing
    # No slice larger than the threads' share, so that every thread has one.
    parts = cluster_slices(members, min(most, max(1, -(-len(members) // threads))))
    # Each slice's accounts cluster by cluster: an engine that keeps what it read (the embedded one does, for
    # the pages) then holds a ring's members together.
    reads = engine.member_slices([part.sort_values(["cluster", "account_id"])["account_id"].tolist() for part in parts],
                                 params.bucket_minutes)
    scored, waiting = [], deque()
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="ringwatch-slice") as pool:
            for k, rows in enumerate(reads):  # to the end, so the engine lets go of what it read for the slices
                waiting.append(pool.submit(_scored_slice, rows, base, usage, parts[k], facts, total, params, model))
                del rows
                while len(waiting) >= threads:  # before the next slice is read: at most ``threads`` slices held
                    scored.append(waiting.popleft().result())
            scored.extend(later.result() for later in waiting)
    finally:  # a slice that failed: the engine lets go of what it staged while the store is still open
        getattr(reads, "close", lambda: None)()
    held = [candidates for _, candidates in scored]
    return ([done for done, _ in scored], Clustered.joined([f for f, _ in held]),
            pd.concat([t for _, t in held]).sort_index())


def _scored_slice(rows, base: Baselines, usage, part, facts, total: int, params: DetectionParams, model: Model):
    """One slice of clusters: the scores of those that cannot be a ring, and the ring candidates' rows and features."""
    found = _gather(rows, base, usage, part, facts, total)
    table = all_cluster_features(found.acc, found.use, found.activity, found.base, params)
    candidate = (ring_risks(table, model) >= params.ring_threshold).to_numpy(dtype=bool)
    done = score_clusters(found.only(table.index[~candidate]), table[~candidate], {}, {}, params, model)
    return done, (found.only(table.index[candidate]), table[candidate])


def _baselines(engine: Engine, accounts, usage, prompts, runs) -> Baselines:
    """The population figures every slice of clusters is compared against (``runs`` by account id)."""
    return Baselines(usage, prompts, {}, sharing=SharingFrequencies(engine.degree_histogram(), len(accounts)),
                     formats=email_formats(accounts["email"]).value_counts(normalize=True), runs=runs,
                     crowded_domains=crowded_share(accounts.set_index("account_id")["email_domain"], runs))


def _gather(rows, base: Baselines, usage, members, facts, total: int) -> Clustered:
    """Some clustered accounts' (``members``) signup rows, usage, activity and identifiers, and the baselines, from
    what the engine read of them (``Engine.member_slices``)."""
    acc, identifiers, degrees, activity = rows
    cluster_of = members.set_index("account_id")["cluster"]
    domains = acc["email_domain"].dropna().unique()
    free = pd.Series([is_free_email_domain(d) for d in domains], index=domains, dtype=bool)
    acc["free_domain"] = map_values(acc["email_domain"], free).fillna(True).astype(bool)
    acc["cluster"] = map_values(acc["account_id"], cluster_of)
    use = usage[is_in(usage["account_id"], members["account_id"])]
    use = use.assign(cluster=map_values(use["account_id"], cluster_of))
    activity = pd.DataFrame(columns=ACTIVITY_COLUMNS) if activity is None else activity
    activity["cluster"] = map_values(activity["account_id"], cluster_of)
    return Clustered(acc, use, activity, facts, identifiers, degrees, base.of_members(identifiers, degrees), total)


def _consolidated(found: Clustered, table: pd.DataFrame, members: pd.DataFrame, params: DetectionParams,
                  model: Model):
    """The ring candidates' feature table after consolidation, and the merges made (``members`` follows them)."""
    if found.acc.empty:
        return None, {}
    rename, table, merges = consolidate(found.acc, found.use, found.activity, table, found.base, found.total, params,
                                       model)
    if rename:
        log.info("consolidation merged %d flagged clusters into %d rings", len(rename), len(merges))
        found.rename(rename)
        members["cluster"] = members["cluster"].map(rename).fillna(members["cluster"])
    return table, merges


def _account_fields(accounts, usage, results) -> pd.DataFrame:
    """What each account adds to the Overview's counts (``reports.overview_tables``): its signup time, result and usage."""
    frame = results.merge(accounts[["account_id", "created_at"]], on="account_id", how="left")
    return frame.merge(usage[["account_id", "requests", "output_tokens"]], on="account_id", how="left")[ACCOUNT_FIELDS]


def _result_tables(accounts, scored, hubs, params) -> dict[str, pd.DataFrame]:
    """The accounts, rings, ring_evidence and suppressed_hubs result tables of a run."""
    clusters_df = scored["clusters"]
    members = scored["members"]
    out = accounts[["account_id"]].copy()
    if len(members):
        out = out.merge(members, on="account_id", how="left")
        ring_of = clusters_df.set_index("cluster_id")
        flagged_cluster = out["cluster_id"].map(ring_of["flagged"]).fillna(False).astype(bool)
        out["ring_id"] = out["cluster_id"].map(ring_of["ring_id"]).where(flagged_cluster)
        # One truth: every member of a flagged ring is flagged (``explanations.score_clusters``).
        out["flagged"] = flagged_cluster
    else:
        out["cluster_id"], out["risk_score"], out["reasons"], out["ring_id"] = None, np.nan, None, None
        out["flagged"] = False
    out["risk_score"] = out["risk_score"].fillna(0.0).astype(float)
    out["reasons"] = out["reasons"].fillna("")
    out = out[ACCOUNT_RESULT_COLUMNS].sort_values("account_id").reset_index(drop=True)
    rings = clusters_df.sort_values(["risk_score", "ring_id"], ascending=[False, True]).reset_index(drop=True)
    return {"accounts": out, "rings": rings, "ring_evidence": scored["evidence"][EVIDENCE_COLUMNS],
            "suppressed_hubs": hubs}
