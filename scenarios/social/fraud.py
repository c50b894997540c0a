"""Fraud activity: each ring's coordinated posting once its last account exists.

Sockpuppet bursts of copy-paste templates, amplifier jobs liking and reposting a target, and
slow rings' scheduled waves of lightly reworded posts.
"""

from __future__ import annotations

import numpy as np

from .content import _Rows
from .draws import _ids
from .params import _END, _START, AMP, HOUR, SOCK
from .timing import HUMAN, SHIFT, _times


def _rings(pop, acc, content, rng, rows: _Rows) -> None:
    """Each ring's coordinated activity once its last account exists."""
    for r in range(len(pop.ring_kind)):
        start, size, kind, hard = pop.ring_start[r], pop.ring_size[r], pop.ring_kind[r], pop.ring_hard[r]
        members = np.arange(start, start + size)
        ring_lo = max(_START, int(acc.created[members].max()) + HOUR)
        if ring_lo >= _END - 4 * HOUR:
            continue
        tz, profile = acc.tz[start], acc.profile[start]
        if kind == SOCK:
            _bursts(rng, rows, members, ring_lo, tz, hard)
        elif kind == AMP:
            _amplify(rng, rows, content, members, ring_lo, tz, profile, hard)
        else:
            _waves(rng, rows, members, ring_lo, tz)


def _bursts(rng, rows, members, ring_lo, tz, hard) -> None:
    """Sockpuppets: a few copy-paste templates posted by most of the farm within minutes, in shift hours."""
    size = len(members)
    templates = rng.integers(2, 9)
    ids, lens = _ids(rng, templates), rng.integers(15, 60, templates)
    bursts = rng.integers(6, 21)
    at = _times(rng, np.full(bursts, ring_lo), _END - HOUR, tz, SHIFT)
    b, j = np.nonzero(rng.random((bursts, size)) < rng.uniform(.45, .9))
    ts = at[b] + (rng.random(len(b)) * rng.uniform(120, 1800)).astype(np.int64)
    pick = np.where(rng.random(len(b)) < .8, rng.integers(0, templates, bursts)[b], rng.integers(0, templates, len(b)))
    fp, tin = ids[pick], lens[pick]
    if hard:  # light edits to dodge exact-duplicate filters
        vary = rng.random(len(b)) < .35
        fp = np.where(vary, _ids(rng, len(b)), fp)
        tin = np.where(vary, np.maximum(3, tin + rng.integers(-4, 5, len(b))), tin)
    keep = ts < _END
    rows.add(members[j][keep], ts[keep], fp[keep], tin[keep], 0)


def _amplify(rng, rows, content, members, ring_lo, tz, profile, hard) -> None:
    """Amplifiers: jobs to like and repost a target (mostly popular items, some the ring's own seed posts)."""
    size = len(members)
    jobs = rng.integers(12, 41)
    seed = rng.random(jobs) < .3
    live = np.flatnonzero(content.item_time < _END - 3 * HOUR)
    item = live[rng.choice(len(live), jobs, p=content.item_weight[live] / content.item_weight[live].sum())]
    at = np.where(seed, _times(rng, np.full(jobs, ring_lo), _END - 2 * HOUR, tz, profile),
                  np.maximum(ring_lo, content.item_time[item] + rng.integers(300, 3 * HOUR, jobs)))
    target = np.where(seed, _ids(rng, jobs), content.item_id[item])
    length = np.where(seed, rng.integers(15, 60, jobs), content.item_len[item])
    heads = members[:max(1, size // 25)]
    rows.add(heads[rng.integers(0, len(heads), int(seed.sum()))], at[seed], target[seed], length[seed], 0)
    b, j = np.nonzero(rng.random((jobs, size)) < rng.uniform(.3, .8))
    ts = at[b] + 30 + rng.exponential(2400 if hard else 300, len(b)).astype(np.int64)
    comments = _ids(rng, rng.integers(2, 5))
    comment_len = rng.integers(3, 12, len(comments))
    c = np.where(rng.random(len(b)) < .2, rng.integers(0, len(comments), len(b)), -1)
    fp = np.where(c >= 0, comments[c], target[b])
    tin = np.where(c >= 0, comment_len[c], 0)
    keep = ts < _END
    rows.add(members[j][keep], ts[keep], fp[keep], tin[keep], length[b][keep])


def _waves(rng, rows, members, ring_lo, tz) -> None:
    """Slow rings: scheduled waves of lightly reworded posts (near-unique fingerprints) within an hour or three."""
    waves = rng.integers(5, 13)
    at = _times(rng, np.full(waves, ring_lo), _END - 3 * HOUR, tz, HUMAN)
    b, j = np.nonzero(rng.random((waves, len(members))) < rng.uniform(.5, .85))
    variants = np.maximum(2, np.ceil(.8 * np.bincount(b, minlength=waves))).astype(np.int64)
    variant = (rng.random(len(b)) * variants[b]).astype(np.int64)
    base, length = rng.integers(1, 2**62, waves, dtype=np.int64), rng.integers(20, 70, waves)
    ts = at[b] + (rng.random(len(b)) * rng.uniform(HOUR, 3 * HOUR)).astype(np.int64)
    keep = ts < _END
    rows.add(members[j][keep], ts[keep], (base[b] + variant)[keep],
             np.maximum(5, length[b] + rng.integers(-5, 6, len(b)))[keep], 0)
