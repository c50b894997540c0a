"""Pool co-activity: accounts that work through one pool of addresses, in the same hours.

A household or an office is one place: two accounts there share one address, its network,
and the request address behind it, worth at most ``ip + ip_net + request_ip`` of network
evidence (1.2 with the kinds' weights). Two accounts whose shared addresses are worth more
than that have many places in common: a rotating proxy pool that an operator's script
spreads its traffic over, a survivor of paraphrasing, since it needs no shared prompt.
Pools are honest too (an office's egress range, a carrier's gateways), so a pool alone
never links: what links is the pool *and* activity in the same hours, SynchroTrap's
action = (address, time) (Cao et al., CCS 2014) taken one step coarser, comparing timing only
among accounts that share a pool.

Timing is judged against what the pair's own activity makes likely: an account active in
``n_a`` hours and one active in ``n_b`` hours, each hour ``h`` as busy as the candidates'
activity in it (share ``p_h``), meet in ``E = n_a n_b sum(p_h^2)`` hours by chance; meeting
in ``c`` hours scores the Poisson log-likelihood ratio ``c ln(c/E) - c + E`` (the same
measure as ``coregistration``), over ln N.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines import Engine
from .kinds import NETWORK
from .params import DetectionParams

EVIDENCE_COLUMNS = ["a", "b", "family", "score", "shared", "similarity"]
HOUR = 60


def pool_pairs(shared: pd.DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Pairs whose network evidence (uncapped) is worth more than one place: a, b."""
    net = shared[(shared["family"] == NETWORK).to_numpy(dtype=bool)
                 & (shared["score"] >= params.pool_min_score).to_numpy()]
    return net[["a", "b"]].reset_index(drop=True)


def pool_evidence(engine: Engine, pairs: pd.DataFrame, ids: np.ndarray, total_accounts: int) -> pd.DataFrame:
    """Pool pairs that are active in the same hours, as evidence rows of family ``pool_activity``.

    ``ids`` maps account numbers (positions in account-id order) to account ids; ``shared``
    is the number of hours in which both accounts were active.
    """
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(EVIDENCE_COLUMNS, [
            "int32", "int32", "object", "float64", "int64", "float64"])})
    a, b = pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64)
    hours = _active_hours(engine, ids, np.unique(np.concatenate([a, b])))
    common, score = timing_scores(hours, a, b, total_accounts)
    out = pd.DataFrame({"a": a.astype(np.int32), "b": b.astype(np.int32), "family": "pool_activity",
                        "score": score, "shared": common.astype(np.int64), "similarity": np.nan})
    return out[out["score"] > 0].reset_index(drop=True)


def timing_scores(hours: pd.DataFrame, a: np.ndarray, b: np.ndarray, total_accounts: int):
    """Per pair (a[i], b[i]): hours both were active in, and that meeting's score in [0, 1].

    ``hours`` holds distinct (idx, hour) rows of every account in the pairs, sorted.
    """
    common, na, nb, busy = _meetings(hours, a, b)
    expected = na * nb * busy
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = np.where(common > expected, common * np.log(common / expected) - common + expected, 0.0)
    return common, np.clip(np.nan_to_num(llr) / np.log(max(int(total_accounts), 3)), 0.0, 1.0)


def _active_hours(engine: Engine, ids: np.ndarray, numbers: np.ndarray) -> pd.DataFrame:
    """Distinct (account number, hour) of these accounts' usage."""
    use = engine.member_usage(ids[numbers].tolist(), HOUR)
    number = pd.Series(numbers, index=ids[numbers])
    hour = (pd.to_datetime(use["bucket"]).astype("datetime64[s]").astype(np.int64) // 3600).to_numpy()
    frame = pd.DataFrame({"idx": use["account_id"].map(number).to_numpy(np.int64), "hour": hour})
    return frame.drop_duplicates().sort_values(["idx", "hour"], ignore_index=True)


def _meetings(hours: pd.DataFrame, a: np.ndarray, b: np.ndarray):
    """Per pair: hours both were active, each one's active hours, and sum(p_h^2) of the hours' busyness."""
    idx, hour = hours["idx"].to_numpy(np.int64), hours["hour"].to_numpy(np.int64)
    per_hour = np.unique(hour, return_counts=True)[1].astype(float)
    busy = float(((per_hour / per_hour.sum()) ** 2).sum()) if len(per_hour) else 0.0
    size = np.bincount(idx, minlength=int(max(a.max(), b.max())) + 1)
    start = np.concatenate([[0], np.cumsum(size)])
    na, nb = size[a].astype(float), size[b].astype(float)
    # Walk the smaller side's hours and look each up among the other's.
    small, large = np.where(na <= nb, a, b), np.where(na <= nb, b, a)
    count = size[small]
    pair = np.repeat(np.arange(len(a)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    wanted = hour[start[small][pair] + offset]
    first = int(hour.min()) if len(hour) else 0
    span = int(hour.max()) - first + 1 if len(hour) else 1
    keys = idx * span + (hour - first)
    probe = large[pair] * span + (wanted - first)
    found = np.searchsorted(keys, probe)
    hit = (found < len(keys)) & (keys[np.minimum(found, len(keys) - 1)] == probe)
    common = np.bincount(pair[hit], minlength=len(a)).astype(float)
    return common, na, nb, busy
