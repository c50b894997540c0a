"""Communities of a component too large to split on one worker: label propagation in Spark SQL.

Louvain (``communities``) needs a whole component on one worker. A component with more strong
links than ``RINGWATCH_SPARK_SPLIT_LINKS`` is split across the cluster instead, by label
propagation (Raghavan, Albert and Kumara, 2007): every account starts with a label of its own,
and in each round takes the label its neighbours hold with the most link weight, keeping its own
where that is among the heaviest, else the least of them. Only about half the accounts move in a
round, chosen by a hash of the account and the round, so two neighbours do not swap labels
forever as they do when all move at once. Rounds end when every account holds one of its
heaviest labels, or after ``MAX_ROUNDS`` (label propagation need not settle; what it has is
still a partition). Weights are summed as integers (units of 2^-20), so the answer is the same
on any number of workers. Each community is named after its least account. Several components
are split in one run of rounds (no label crosses from one to another); each one's modularity
is computed on the driver as networkit computes Louvain's (resolution 1), so clustering judges
both alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_ROUNDS = 30
GRAIN = 2**20  # a link's weight in whole units of 2^-20, at least one

# Every link both ways, and each account to itself with no weight: (src, dst, w) with w an integer weight.
BOTH_WAYS = """
SELECT a AS src, b AS dst, w FROM {links} UNION ALL SELECT b AS src, a AS dst, w FROM {links}
UNION ALL SELECT DISTINCT node AS src, node AS dst, 0 AS w FROM (SELECT a AS node FROM {links} UNION SELECT b FROM {links})
"""
START = "SELECT DISTINCT src AS node, src AS label FROM {edges}"
# One round: each account's neighbours' labels by weight, its own among them (``own``, by the link to itself);
# ``settled`` when its own is among the heaviest. The labels are read once: Spark's size estimate of a plan
# that reads the last round's table twice squares with every round, and soon takes longer than the round.
ROUND = """
WITH votes AS (
    SELECT e.src AS node, l.label, sum(e.w) AS w, max(CASE WHEN e.src = e.dst THEN 1 ELSE 0 END) AS own
    FROM {edges} e JOIN {labels} l ON l.node = e.dst GROUP BY e.src, l.label
), ranked AS (
    SELECT node, label, own, w = max(w) OVER (PARTITION BY node) AS top FROM votes
), chosen AS (
    SELECT node, max(CASE WHEN own = 1 THEN label END) AS now, min(CASE WHEN top THEN label END) AS least,
           max(CASE WHEN own = 1 AND top THEN 1 ELSE 0 END) AS settled
    FROM ranked GROUP BY node
)
SELECT node, CASE WHEN settled = 1 OR pmod(hash(node, :round), 2) = 1 THEN now ELSE least END AS label, settled
FROM chosen
"""
NAMED = "SELECT node AS account_id, min(node) OVER (PARTITION BY label) AS `group` FROM {labels}"


def communities(edges: pd.DataFrame, to_spark, run, collect, keep, release) -> tuple[pd.DataFrame, int, bool]:
    """(groups, rounds, settled) of a graph's (a, b[, weight]) integer edges. ``to_spark`` makes a
    DataFrame of a pandas frame, ``run`` plans a statement over named DataFrames, ``collect`` brings its rows back
    and ``keep``/``release`` cache a DataFrame (the engine's)."""
    weight = edges["weight"].to_numpy(dtype=np.float64) if "weight" in edges else np.ones(len(edges))
    units = np.maximum(1, np.rint(weight * GRAIN)).astype(np.int64)
    links = pd.DataFrame({"a": edges["a"].to_numpy(dtype=np.int64), "b": edges["b"].to_numpy(dtype=np.int64),
                          "w": units})
    both = keep(run(BOTH_WAYS, links=to_spark(links)))
    labels = run(START, edges=both).localCheckpoint()
    rounds, settled = 0, False
    try:
        while rounds < MAX_ROUNDS:
            rounds += 1
            labels = run(ROUND, {"round": rounds}, edges=both, labels=labels).localCheckpoint()
            if int(collect("SELECT count(*) AS n FROM {labels} WHERE settled = 0", labels=labels)["n"].iloc[0]) == 0:
                settled = True
                break
        found = collect(NAMED, labels=labels).sort_values("account_id", ignore_index=True)
    finally:
        release(both)
    dtype = edges["a"].dtype
    groups = pd.DataFrame({"account_id": found["account_id"].to_numpy().astype(dtype),
                           "group": found["group"].to_numpy().astype(dtype)})
    return groups, rounds, settled


def modularity(edges: pd.DataFrame, groups: pd.DataFrame) -> float:
    """Newman's modularity (resolution 1) of a partition of a weighted graph, as networkit's ``Modularity``."""
    if edges.empty:
        return 0.0
    weight = edges["weight"].to_numpy(dtype=np.float64) if "weight" in edges else np.ones(len(edges))
    group_of = pd.Series(groups["group"].to_numpy(), index=groups["account_id"].to_numpy())
    ga = group_of.reindex(edges["a"].to_numpy()).to_numpy()
    gb = group_of.reindex(edges["b"].to_numpy()).to_numpy()
    codes, _ = pd.factorize(np.concatenate([ga, gb]))
    ca, cb = codes[: len(edges)], codes[len(edges):]
    total = weight.sum()
    inside = np.bincount(ca[ca == cb], weight[ca == cb], minlength=codes.max() + 1)
    degree = np.bincount(ca, weight, minlength=codes.max() + 1) + np.bincount(cb, weight, minlength=codes.max() + 1)
    return float(inside.sum() / total - ((degree / (2 * total)) ** 2).sum())
