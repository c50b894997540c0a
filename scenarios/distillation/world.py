"""Units of the distillation world: loners, honest groups and rings, and the values they offer.

``World`` holds the accounts grouped into units and what the signup stage decides for the usage
stage; ``Pool`` the values a unit offers its members. Also the split of the accounts into
units and the draws both stages share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .params import DIURNAL_CDF, FLAT, HUMAN, K, POOLS, WORK, Params, _per_kind


@dataclass
class World:
    """Accounts grouped into units, and what the signup stage decides for the usage stage."""

    unit_kind: np.ndarray
    unit_size: np.ndarray
    acc_unit: np.ndarray
    acc_kind: np.ndarray
    unit_first: np.ndarray
    n: int = 0
    created_h: np.ndarray | None = None
    tz: np.ndarray | None = None
    ips: list | None = None           # pieces of the IP table; codes index their concatenation
    own_ip: np.ndarray | None = None
    ip_pool: "Pool | None" = None
    ip_codes: np.ndarray | None = None  # table code of each unit-pool entry
    proxy: tuple = (0, 0)               # (first code, size) of the commercial proxy pool
    browser: np.ndarray | None = None
    ids: np.ndarray | None = None       # account_id per account
    rank: np.ndarray | None = None      # position of each account in account_id order


class Pool(NamedTuple):
    """Per unit, where its values start in a flat value array and how many it has."""

    start: np.ndarray
    size: np.ndarray

    @property
    def total(self) -> int:
        return int(self.size.sum())

    def pick(self, rng, units: np.ndarray, skew: float = 1.0) -> np.ndarray:
        """A value index for each unit in `units` (meaningless where the unit has none)."""
        return self.start[units] + (rng.random(len(units)) ** skew * self.size[units]).astype(np.int64)


def _unit_sizes(rng, budget: int, lo: int, hi: int, skew: float, smallest: int) -> list[int]:
    """Sizes of the units of one kind that together hold `budget` accounts."""
    lo = min(lo, max(smallest, budget // 2))
    hi = max(lo, min(hi, budget // 2))
    if budget < smallest:
        return []
    draws = np.floor(np.exp(np.log(lo) + rng.random(budget // lo + 1) ** skew
                            * (np.log(hi + 1) - np.log(lo)))).astype(int)
    sizes = draws[np.cumsum(draws) <= budget].tolist()
    rest = budget - sum(sizes)
    if rest >= lo or not sizes:
        sizes.append(rest)
    elif rest:
        sizes[-1] += rest
    return sizes


def _plan(rng, p: Params, accounts: int) -> World:
    """Split the accounts into units: honest groups, loners and rings."""
    n_fraud = round(accounts * p.fraud_share)
    n_legit = accounts - n_fraud
    size_of = dict(p.sizes)
    kinds, sizes = [], []
    for mix, total, smallest in ((p.legit_mix, n_legit, 2), (p.ring_mix, n_fraud, 3)):
        for kind, share in mix:
            budget = round(total * share)
            got = _unit_sizes(rng, budget, *size_of[kind], smallest) if kind in size_of else [1] * budget
            kinds += [K[kind]] * len(got)
            sizes += got
    # Accounts a kind could not use (a budget too small for one unit) become individuals.
    individuals = accounts - sum(sizes)
    kinds += [K["individual"]] * individuals
    sizes += [1] * individuals
    unit_kind, unit_size = np.array(kinds), np.array(sizes)
    acc_unit = np.repeat(np.arange(len(unit_kind)), unit_size)
    return World(unit_kind, unit_size, acc_unit, unit_kind[acc_unit],
                 np.cumsum(unit_size) - unit_size, n=accounts)


def _pool(rng, w: World, column: str) -> Pool:
    """The values each unit offers for `column` (how many, where they start), per POOLS."""
    spec = POOLS[column]
    share, lo, hi = (_per_kind(spec, i).astype(float) for i in range(3))
    k = w.unit_kind
    has = rng.random(len(k)) < share[k]
    size = np.where(has, rng.integers(lo[k].astype(int), hi[k].astype(int) + 1), 0)
    return Pool(np.cumsum(size) - size, size)


def _shared(rng, w: World, column: str) -> tuple[Pool, np.ndarray]:
    """The units' pools of `column`, and per account the pooled value it takes (-1: its own)."""
    pool = _pool(rng, w, column)
    use = _per_kind(POOLS[column], 3)[w.acc_kind]
    take = (pool.size[w.acc_unit] > 0) & (rng.random(w.n) < use)
    return pool, np.where(take, pool.pick(rng, w.acc_unit), -1)


def _owners(pool: Pool) -> np.ndarray:
    """The unit of every value of a pool."""
    return np.repeat(np.arange(len(pool.size)), pool.size)


def _choose(rng, n: int, weights: np.ndarray) -> np.ndarray:
    """`n` indices drawn with the given weights."""
    return rng.choice(len(weights), size=n, p=weights)


def _diurnal_hours(rng, profiles: np.ndarray) -> np.ndarray:
    """A local hour of day for each entry, drawn from its diurnal profile."""
    hours, u = np.zeros(len(profiles), dtype=np.int64), rng.random(len(profiles))
    for profile in (HUMAN, WORK, FLAT):
        at = profiles == profile
        hours[at] = np.searchsorted(DIURNAL_CDF[profile], u[at], side="right")
    return np.minimum(hours, 23)


def _take(values: np.ndarray, pick: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per account the pooled value it picked, or its own where it picked none (-1)."""
    out = own.copy()
    at = pick >= 0
    out[at] = values[pick[at]]
    return out
