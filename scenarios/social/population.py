"""Who is who: kind, ring and legitimate group per account (``_Population``).

Ring and group sizes follow power laws (households and second accounts their own mixes);
every ring and group is a contiguous block of accounts. Also which campuses are universities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .draws import _fill, _sizes
from .params import AMP, CAMPUS, FAN, HOUSE, IND, MULTI, SLOW, SOCK, SocialParams


@dataclass
class _Population:
    """Kind, ring and legitimate group per account; every ring and group is a contiguous block of accounts."""

    kind: np.ndarray
    ring: np.ndarray
    group: np.ndarray
    ring_kind: np.ndarray
    ring_hard: np.ndarray
    ring_start: np.ndarray
    ring_size: np.ndarray
    group_kind: np.ndarray
    group_start: np.ndarray
    group_size: np.ndarray


def _population(p: SocialParams, n: int, rng) -> _Population:
    n_fraud = max(9, round(n * p.fraud_share))
    n_sock, n_amp = round(n_fraud * p.sockpuppet_share), round(n_fraud * p.amplifier_share)
    ring_kind, ring_size = [], []
    for kind, budget, largest in ((SOCK, n_sock, p.sockpuppet_max), (AMP, n_amp, p.amplifier_max),
                                  (SLOW, n_fraud - n_sock - n_amp, p.slow_ring_max)):
        sizes = _sizes(rng, budget, 3, largest, p.ring_size_exponent)
        ring_kind += [kind] * len(sizes)
        ring_size.append(sizes)
    ring_kind, ring_size = np.array(ring_kind), np.concatenate(ring_size)
    ring_hard = (ring_kind == SLOW) | (rng.random(len(ring_kind)) < p.hard_ring_share)

    def communities(share, bounds):
        budget = round(n * share)
        return _sizes(rng, budget, bounds[0], min(bounds[1], max(bounds[0], budget // 3)), 1.5)

    groups = ((HOUSE, _fill(rng, round(n * p.household_share), np.arange(2, 7), np.array([.45, .26, .16, .09, .04]))),
              (MULTI, _fill(rng, round(n * p.multi_account_share), np.array([2, 3]), np.array([.8, .2]))),
              (FAN, communities(p.fan_share, p.fan_size)), (CAMPUS, communities(p.campus_share, p.campus_size)))
    group_kind = np.concatenate([np.full(len(sizes), kind) for kind, sizes in groups])
    group_size = np.concatenate([sizes for _, sizes in groups])
    sizes = np.concatenate([ring_size, group_size])
    starts = np.cumsum(sizes) - sizes
    kind = np.full(n, IND, dtype=np.int64)
    kind[:sizes.sum()] = np.repeat(np.concatenate([ring_kind, group_kind]), sizes)
    ring = np.full(n, -1, dtype=np.int64)
    ring[:ring_size.sum()] = np.repeat(np.arange(len(ring_size)), ring_size)
    group = np.full(n, -1, dtype=np.int64)
    group[ring_size.sum():sizes.sum()] = np.repeat(np.arange(len(group_size)), group_size)
    return _Population(kind, ring, group, ring_kind, ring_hard, starts[:len(ring_size)], ring_size,
                       group_kind, starts[len(ring_size):], group_size)


def _university(group: int) -> bool:
    """Three campuses in five are universities (labs, halls of residence, .edu mail), the rest offices."""
    return group % 5 < 3
