"""Co-registration: accounts signed up together from one address or network.

A script that registers accounts does it in runs, seconds to minutes apart, from the few
addresses its proxies give it; honest people behind the same address arrive when their
lives bring them. So each signup IP and each signup network (the /24 or /48) is scanned for
*runs*: signups whose consecutive gaps are at most ``coregistration_minutes``. A run of
``k`` accounts on a value that ``m`` accounts use over the store's span ``T`` is judged
against that value's own rate with the log-likelihood ratio of Kulldorff's scan statistic
(Kulldorff, Communications in Statistics 1997), ``k ln(k/E) + (m-k) ln((m-k)/(m-E))`` for
``E = m L / T`` signups expected in a run of length ``L``, less ``ln(T / L)`` for the
windows a scan tries. A campus NAT that sees hundreds of signups a day needs a far denser
run than a /24 nobody else uses; a hub address (more than ``hub_cap`` accounts) is not
scanned, as hubs never link.

Each pair of accounts in a run gets evidence of the ``coregistration`` kind, scored as the
run's surprise over ``ln N`` (the unit of identity evidence: 1 is as improbable as a value
held by only these accounts), times the share of the address's signups that came in runs
larger than a household. It is timing on one address, so it adds to the network family
rather than standing beside it as a second one; a run strong enough links on its own, as
overwhelming behaviour does (``linking.strong_links``). Linking is
not judging: a family that signs up one evening is co-registered too. The ring feature
``coregistration`` counts only runs larger than a household (a signup IP is household
sharing, ``identity.HOUSEHOLD``), and the ring score discounts what an organisation explains
(a lecture that signs up together from the campus network).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import is_in, map_values
from .identity import HOUSEHOLD
from .params import DetectionParams

RUN_COLUMNS = ["account", "run", "k", "surprise", "key", "minutes", "key_share"]
EVIDENCE_COLUMNS = ["a", "b", "family", "score", "shared", "similarity"]
# Evidence is capped here: beyond it a run's surprise changes no link.
MAX_SCORE = 2.0
# Runs below this score add nothing a link could use (``linking.MIN_FAMILY_SCORE``).
MIN_SCORE = 0.2


def _llr(k: np.ndarray, m: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Kulldorff's log-likelihood ratio for ``k`` of ``m`` events where ``expected`` were due (0 unless above)."""
    e = np.clip(expected, 1e-300, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(m > k, (m - k) * np.log((m - k) / np.maximum(m - e, 1e-300)), 0.0)
        out = k * np.log(k / e) + rest
    return np.where(k > e, np.nan_to_num(out), 0.0)


def signup_runs(accounts: pd.DataFrame, params: DetectionParams) -> pd.DataFrame:
    """Runs of at least ``min_ring_size`` signups on one IP or network, with their surprise (nats).

    ``accounts`` are the store's accounts in account-id order (created_at, ip, ip_net); an
    account is numbered by its row, as pair evidence numbers accounts. Returns account,
    run, k (signups in the run), surprise, key (the IP or network) and minutes (the run's
    length), one row per account and run, a run's rows in signup order.
    """
    t = pd.to_datetime(accounts["created_at"], errors="coerce") if len(accounts) else pd.Series(dtype="datetime64[ns]")
    if t.notna().sum() < params.min_ring_size:
        return pd.DataFrame(columns=RUN_COLUMNS)
    secs = (t - t.min()).dt.total_seconds().to_numpy()
    window = params.coregistration_minutes * 60.0
    span = max(float(np.nanmax(secs)), window)
    out, first_run = [], 0
    for column in ("ip", "ip_net"):
        if column not in accounts:
            continue
        codes, keys = pd.factorize(accounts[column])
        at = np.flatnonzero((codes >= 0) & t.notna().to_numpy())
        order = np.lexsort((at, secs[at], codes[at]))
        at, code, ts = at[order], codes[at][order], secs[at][order]
        if len(at) == 0:
            continue
        # A run starts at each new address and after each gap longer than the window.
        starts = np.flatnonzero(np.r_[True, (code[1:] != code[:-1]) | (np.diff(ts) > window)])
        ends = np.r_[starts[1:], len(at)]
        k, key = (ends - starts).astype(float), code[starts]
        m = np.bincount(code, minlength=len(keys))[key].astype(float)
        length = ts[ends - 1] - ts[starts] + window
        surprise = _llr(k, m, m * length / span) - np.log(np.maximum(span / length, 1.0))
        # A hub address (more than ``hub_cap`` accounts) is never used as a link, nor cited.
        kept = np.flatnonzero((k >= params.min_ring_size) & (surprise > 0) & (m <= params.hub_cap))
        # How much of the address's signups came in runs larger than a household.
        crowd = np.bincount(key[kept], weights=np.where(k[kept] > HOUSEHOLD, k[kept], 0.0), minlength=len(keys))
        size = (ends - starts)[kept]
        rows = np.repeat(kept, size)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(size) - size, size)
        out.append(pd.DataFrame({
            "account": at[starts[rows] + offsets], "run": first_run + rows, "k": size.repeat(size),
            "surprise": surprise[rows], "key": keys[key[rows]],
            "minutes": np.ceil((ts[ends - 1] - ts[starts])[rows] / 60.0).astype(np.int64),
            "key_share": crowd[key[rows]] / m[rows],
        }))
        first_run += len(starts)
    if not out:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.concat(out, ignore_index=True)[RUN_COLUMNS].astype({"k": np.int64})


def coregistration_evidence(runs: pd.DataFrame, params: DetectionParams, total_accounts: int) -> pd.DataFrame:
    """Pairs of accounts signed up in one run: a, b, family ``coregistration``, score, shared (run size), similarity.

    The score is scaled by the address's ``key_share``: on an address that mostly sees
    crowds, a run is the crowd; on one that also sees ordinary signups (a campus or carrier
    NAT), the strangers who happened to sign up between a script's registrations are in the
    run too, so it says little about any one pair (and runs no larger than a household,
    ``key_share`` 0, link no one). Each signup is linked to the ``coregistration_neighbours``
    signups before it in its run (its nearest in time), which keeps a run of any size
    connected without enumerating every pair of it; a pair in runs on both its IP and its
    network keeps the stronger.
    """
    scale = np.log(max(int(total_accounts), 3))
    score = np.minimum(runs["surprise"].to_numpy(float) / scale, MAX_SCORE) * runs["key_share"].to_numpy(float)
    keep = score >= MIN_SCORE
    if not keep.any():
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    # Rows of a run are in signup order (``signup_runs``).
    run, account = runs["run"].to_numpy()[keep], runs["account"].to_numpy(np.int64)[keep]
    score, size = score[keep], runs["k"].to_numpy(np.int64)[keep]
    parts = []
    for back in range(1, params.coregistration_neighbours + 1):
        at = np.flatnonzero(run[back:] == run[:-back]) + back
        if len(at) == 0:
            break
        one, other = account[at], account[at - back]
        parts.append(pd.DataFrame({"a": np.minimum(one, other), "b": np.maximum(one, other),
                                   "score": score[at], "shared": size[at]}))
    ev = pd.concat(parts, ignore_index=True).assign(family="coregistration", similarity=float("nan"))
    ev = ev.sort_values(["a", "b", "score"], ascending=[True, True, False], kind="stable")
    return ev.drop_duplicates(["a", "b"])[EVIDENCE_COLUMNS].reset_index(drop=True)


def crowded_share(values: pd.Series, runs: pd.DataFrame) -> pd.Series:
    """Per value (``values``: one per account id, e.g. email domains), the share of its accounts that signed up in crowds.

    A crowd is a run larger than a household; ``runs`` carry account ids.
    """
    held = values.dropna()
    if held.empty:
        return pd.Series(dtype=float)
    crowd = runs.loc[runs["k"] > HOUSEHOLD, "account"].unique() if len(runs) else []
    return pd.Series(held.index.isin(crowd), index=held.index, dtype=float).groupby(held.to_numpy()).mean()


def crowd_runs(members: pd.DataFrame, runs: pd.DataFrame | None) -> pd.DataFrame:
    """Each member's crowd: its largest run with more than ``HOUSEHOLD`` members of its cluster.

    ``members``: account_id, cluster; ``runs`` carry account ids. Returns account_id,
    cluster, members (of the cluster in that run), minutes, key and weight: ``(members -
    HOUSEHOLD) / members`` (the part of the run no household explains) times the share of
    the address's signups that came in crowds (``key_share``: 1 for a proxy range that only
    ever sees them, little for a campus NAT where a lecture once signed up together).
    """
    cols = ["account_id", "cluster", "members", "minutes", "key", "weight"]
    if runs is None or runs.empty or members.empty:
        return pd.DataFrame(columns=cols)
    cluster_of = members.set_index("account_id")["cluster"]
    inside = runs[is_in(runs["account"], cluster_of.index)]
    inside = inside.assign(cluster=map_values(inside["account"], cluster_of))
    count = inside.groupby(["cluster", "run"], sort=False)["account"].transform("size")
    big = inside[count > HOUSEHOLD].assign(members=count[count > HOUSEHOLD])
    big = big.assign(account_id=big["account"],
                     weight=big["key_share"] * (big["members"] - HOUSEHOLD) / big["members"])
    big = big.sort_values(["account_id", "members", "weight", "run"], ascending=[True, False, False, True])
    return big.drop_duplicates("account_id")[cols].reset_index(drop=True)


def coregistration_feature(out: pd.DataFrame, crowds: pd.DataFrame) -> None:
    """coregistration: the mean over members of their crowd's weight (``crowd_runs``; 0 for a member in none).

    Details for the words: the largest crowd inside the cluster (``coreg_accounts``, its
    ``coreg_minutes`` and ``coreg_where``).
    """
    out["coregistration"], out["coreg_accounts"], out["coreg_minutes"], out["coreg_where"] = 0.0, 0, 0, None
    if crowds.empty:
        return
    held = crowds.groupby("cluster")["weight"].sum()
    out["coregistration"] = held.reindex(out.index, fill_value=0.0) / out["size"]
    top = crowds.sort_values(["cluster", "members", "weight", "key"], ascending=[True, False, False, True])
    top = top.drop_duplicates("cluster").set_index("cluster")
    out["coreg_accounts"] = top["members"].reindex(out.index, fill_value=0).astype(np.int64)
    out["coreg_minutes"] = top["minutes"].reindex(out.index, fill_value=0).astype(np.int64)
    out["coreg_where"] = top["key"].reindex(out.index)
