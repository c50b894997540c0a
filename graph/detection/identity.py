"""Identity evidence: how improbable a group's shared identifiers are under this data's own frequencies.

Every identifier kind, built-in or declared, counts by its sharing class (the data
contract's) and by how often this store's values of that kind are shared:

- each class has an *allowance*, the sharing honest life explains: a personal identifier
  (phone, email address, an SSN hash) belongs to one person, a household one (a device, a
  card, a home line, an address) to a family of up to ``HOUSEHOLD`` people. Organisational,
  network, client and behavioural sharing is explained by an organisation, a gateway, a
  piece of software or a task, and is judged elsewhere (org coherence, the link rule, the
  template and client features), never here;
- a value shared by more accounts than its class allows counts its *surprise*,
  ``-ln q``, where ``q`` is the share of this store's accounts holding a value of that kind
  that is held by at least as many accounts. This is the term-frequency-adjusted agreement weight
  of record linkage (Fellegi and Sunter, JASA 1969; the "u" probability taken from the
  value frequencies of the data at hand): a phone shared by three accounts says little
  where landlines are common and much where phones are not shared at all;
- the surprise is scaled by the share of the value's holders inside the group (its
  ``members / accounts``): a card held only by a group's twelve members counts fully, a
  campus NAT address held by 1,500 accounts says little about the 60 of them in one group;
- a group's evidence sums, over kinds, the share of members holding such a value times its
  surprise (the largest, per member), so one shared value among thirty members counts
  little and a pool reused by all of them counts fully. Kinds of one family (a signup IP
  and its network) are not independent, so each family counts once, by its strongest kind.

The feature is this sum over ``ln N`` (N accounts in the store): 1 when the group's sharing
is as improbable as one value held by only these accounts in a store of this size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import map_values
from .kinds import kind_info

# The most accounts a household-class value is shared by in honest life (a family, a shared
# flat), and the personal allowance: one.
HOUSEHOLD = 5
ALLOWANCE = {"personal": 1, "household": HOUSEHOLD}


class SharingFrequencies:
    """This store's sharing frequencies per kind, from ``Engine.degree_histogram`` (kind, accounts, values)."""

    def __init__(self, histogram: pd.DataFrame, total_accounts: int):
        self.total = max(int(total_accounts), 3)
        self._tails: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for kind, rows in histogram.groupby("kind", sort=True):
            rows = rows.sort_values("accounts")
            degree = rows["accounts"].to_numpy(dtype=np.int64)
            holders = degree * rows["values"].to_numpy(dtype=np.int64)
            # Holders whose value is held by at least degree[i] accounts, as a share of all
            # accounts (one without a value of this kind shares none).
            at_least = np.cumsum(holders[::-1])[::-1] / max(self.total, int(holders.sum()))
            self._tails[kind] = (degree, at_least)

    def surprise(self, kinds: pd.Series, degrees: pd.Series) -> np.ndarray:
        """``-ln q`` for each (kind, degree): q the share of accounts holding a value of the kind at that degree or more."""
        out = np.zeros(len(kinds))
        k_arr, d_arr = kinds.to_numpy(), degrees.to_numpy(dtype=np.int64)
        floor = 1.0 / self.total
        for kind in pd.unique(k_arr):
            at = np.flatnonzero(k_arr == kind)
            if kind not in self._tails:
                out[at] = -np.log(floor)
                continue
            degree, at_least = self._tails[kind]
            pos = np.searchsorted(degree, d_arr[at], side="left")
            q = np.where(pos < len(degree), at_least[np.minimum(pos, len(degree) - 1)], floor)
            out[at] = -np.log(np.maximum(q, floor))
        return out


def shared_values(ids: pd.DataFrame, degrees: pd.DataFrame) -> pd.DataFrame:
    """Values shared by at least two members of a cluster: cluster, kind, value, members, accounts (overall).

    ``ids``: account_id, kind, value, cluster; ``degrees``: kind, value, accounts (a value
    missing there counts its members).
    """
    sh = ids.groupby(["cluster", "kind", "value"], observed=True)["account_id"].nunique().rename("members")
    sh = sh[sh >= 2].reset_index().merge(degrees, on=["kind", "value"], how="left")
    sh["accounts"] = sh["accounts"].fillna(sh["members"]).astype(np.int64)
    return sh


def excess_values(ids: pd.DataFrame, degrees: pd.DataFrame, freq: SharingFrequencies) -> pd.DataFrame:
    """Values shared inside a cluster by more accounts overall than their class allows, with their surprise.

    ``ids``: account_id, kind, value, cluster. Returns cluster, kind, family, value,
    members (inside the cluster), accounts (overall), surprise, one row per value.
    """
    cols = ["cluster", "kind", "family", "value", "members", "accounts", "surprise"]
    if ids.empty:
        return pd.DataFrame(columns=cols)
    sh = shared_values(ids, degrees)
    info = {k: kind_info(k) for k in pd.unique(sh["kind"])}
    allow = sh["kind"].map({k: ALLOWANCE.get(i.sharing) for k, i in info.items()})
    sh = sh[allow.notna() & (sh["accounts"] > allow.fillna(0))].copy()
    sh["family"] = sh["kind"].map({k: i.family for k, i in info.items()})
    sh["surprise"] = freq.surprise(sh["kind"], sh["accounts"])
    return sh[cols].reset_index(drop=True)


def _is_personal(kind: str) -> bool:
    return kind_info(kind).sharing == "personal"


def one_person(ids: pd.DataFrame, sizes: pd.Series) -> set:
    """Small clusters whose members hold one value of every personal kind between them: one person's few accounts.

    A ring is many identities run by one operator; one identity opening a second and a
    third account is a duplicate, not a ring, so its shared personal identifiers are not
    counted as ring evidence (what else its accounts share still is). Up to ``HOUSEHOLD``
    accounts: one inbox behind a hundred accounts is an operation, not a person. ``sizes`` is
    members per cluster.
    """
    kinds = pd.unique(ids["kind"])
    personal_kind = pd.Series([_is_personal(k) for k in kinds], index=kinds, dtype=bool)
    small = map_values(ids["cluster"], sizes).le(HOUSEHOLD).to_numpy(dtype=bool)
    personal = ids[map_values(ids["kind"], personal_kind).fillna(False).to_numpy(dtype=bool) & small]
    if personal.empty:
        return set()
    distinct = personal.groupby(["cluster", "kind"], observed=True)["value"].nunique()
    return set(distinct[distinct == 1].groupby(level="cluster").size().index.difference(
        distinct[distinct > 1].index.get_level_values("cluster")))


def identity_evidence(ids: pd.DataFrame, excess: pd.DataFrame, sizes: pd.Series, total_accounts: int) -> pd.DataFrame:
    """Per cluster: ``identity`` (the feature, in [0, 1]), ``identity_nats`` and the strongest kind.

    ``ids`` are the members' identifier rows (account_id, kind, value, cluster); ``excess``
    comes from ``excess_values``; ``sizes`` is members per cluster.
    """
    out = pd.DataFrame(index=sizes.index)
    if excess.empty:
        out["identity"], out["identity_nats"], out["identity_kind"] = 0.0, 0.0, None
        return out
    # Scaled by the share of the value's holders inside the cluster.
    excess = excess.assign(surprise=excess["surprise"] * excess["members"] / excess["accounts"].clip(lower=1))
    held = ids.merge(excess[["cluster", "kind", "value", "family", "surprise"]], on=["cluster", "kind", "value"])
    held = held[~(held["cluster"].isin(one_person(ids, sizes)) & held["kind"].map(_is_personal))]
    # Per member and family: its strongest excess value; per cluster and family: the mean over members.
    per_member = held.groupby(["cluster", "family", "account_id"], observed=True)["surprise"].max()
    per_family = per_member.groupby(level=["cluster", "family"], observed=True).sum().reset_index()
    per_family["nats"] = per_family["surprise"] / per_family["cluster"].map(sizes).astype(float)
    nats = per_family.groupby("cluster")["nats"].sum().reindex(sizes.index, fill_value=0.0)
    top = (held.groupby(["cluster", "kind"], observed=True)["surprise"].sum().reset_index()
           .sort_values(["cluster", "surprise", "kind"], ascending=[True, False, True]).drop_duplicates("cluster"))
    out["identity_nats"] = nats.round(3)
    out["identity"] = np.clip(nats / np.log(max(int(total_accounts), 3)), 0.0, 1.0)
    out["identity_kind"] = top.set_index("cluster")["kind"].reindex(sizes.index)
    return out


def identity_web(excess: pd.DataFrame, sizes: pd.Series) -> pd.DataFrame:
    """Per cluster: ``identity_web`` (the feature, in [0, 1]) and ``web_values``, the personal values behind it.

    One person's identifier shared by a group is one value per kind: a branch's phone, a
    care home's address, a person's repeated applications. A pool of identities reused in
    combinations is several: a first-party fraud ring's few SSNs, phones and addresses,
    each held by several of its accounts (the pattern of Neo4j's fraud-detection example).
    The measure counts, per personal kind, the values shared inside the group (mostly
    held there: at least half of each value's holders) beyond the first, summed over kinds
    (``web``), and maps it to ``1 - 2^(-web/2)``: two extra values count half.
    """
    out = pd.DataFrame(index=sizes.index)
    out["identity_web"], out["web_values"], out["web_pool"], out["web_kinds"] = 0.0, 0, 0, 0
    if excess.empty:
        return out
    personal = excess[excess["kind"].map(_is_personal).astype(bool)
                      & (excess["members"] >= 0.5 * excess["accounts"].clip(lower=1))]
    per_kind = personal.groupby(["cluster", "kind"], observed=True)["value"].nunique()
    # The values in the pool and the kinds they are of; every kind beyond its first value adds.
    out["web_pool"] = per_kind.groupby(level="cluster").sum().reindex(sizes.index, fill_value=0).astype(int)
    out["web_kinds"] = per_kind.groupby(level="cluster").size().reindex(sizes.index, fill_value=0).astype(int)
    out["web_values"] = out["web_pool"] - out["web_kinds"]
    out["identity_web"] = 1.0 - np.exp2(-out["web_values"].to_numpy(dtype=float) / 2.0)
    return out

