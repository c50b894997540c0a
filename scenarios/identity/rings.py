"""The identity family's fraud rings: first-party rings, synthetic identities and mules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .devices import EMULATOR_UA
from .draws import pick_hard, sizes
from .timing import ring_times
from .world import _World


def _first_party(w: _World, at: np.ndarray, hard: bool) -> None:
    """National id, phone and address drawn from pools smaller than the ring, as a connected web."""
    rng, n, country = w.rng, len(at), w.country[at[0]]
    k = np.round(n * rng.uniform(*((0.5, 0.75) if hard else (0.2, 0.45)), size=3))
    k = np.clip(k, min(2, n - 1), n - 1).astype(int)  # never one value for the whole ring
    vals = np.column_stack([rng.integers(0, k[f], n) for f in range(3)])
    both = rng.random(n) < (0.25 if hard else 0.5)
    anchor = np.zeros(n, dtype=int)
    for i in range(1, n):  # each applicant reuses one or two pieces of an earlier applicant's identity
        shared = rng.choice(3, 2 if both[i] else 1, replace=False)
        anchor[i] = rng.integers(0, i)
        vals[i, shared] = vals[anchor[i], shared]
    for _ in range(6):  # a piece the whole ring ended up with: one applicant varies it, linked otherwise
        for f in np.flatnonzero((vals == vals[0]).all(axis=0)):
            i, g = int(rng.integers(1, n)), (f + 1) % 3
            vals[i, g] = vals[anchor[i], g]
            vals[i, f] = (vals[0, f] + 1) % k[f]
    for f, kind in enumerate(("person", "phone", "address")):
        w.ids[kind][at] = w.fresh(k[f])[vals[:, f]]
    if not hard and rng.random() < 0.3:  # one Gmail inbox, written with different dots
        who = at[rng.random(n) < rng.uniform(0.3, 0.6)]
        w.ids["email"][who], w.mail_domain[who], w.dotted[who] = w.fresh(1)[0], "gmail.com", True
    here = np.repeat(country, n)
    if hard:  # residential proxies or a phone's mobile data; some fresh browser profiles
        w.ip[at] = w.net.home(here, 0.1) if rng.random() < 0.6 else w.net.mobile(here)
        w.share("device", at, max(1, n // 5), use=0.4)
    else:
        w.share_ips(at, w.net.home(here[:rng.integers(1, 4)], 0.1), use=0.8)
        w.share("device", at, int(rng.integers(1, 4)), use=0.8)
    style = "steady" if hard else rng.choice(["steady", "waves", "burst"], p=[0.5, 0.3, 0.2])
    w.t[at] = ring_times(rng, n, style, w.p.window_days, country)


def _synthetic(w: _World, at: np.ndarray, hard: bool) -> None:
    """Made-up people sharing their maker's phone, address and device; one to three cells."""
    rng, n, country = w.rng, len(at), w.country[at[0]]
    cells = 1 if n < 6 or rng.random() < 0.5 else int(rng.integers(2, 4))
    cell = rng.integers(0, cells, n)
    phone, address = w.fresh(cells), w.fresh(cells)
    takes_phone = rng.random(n) < (0.6 if hard else 0.95)
    takes_address = (rng.random(n) < (0.7 if hard else 0.95)) | ~takes_phone
    w.ids["phone"][at[takes_phone]] = phone[cell[takes_phone]]
    w.ids["address"][at[takes_address]] = address[cell[takes_address]]
    on_device = w.share("device", at, 1 if n <= 5 else int(rng.integers(1, 4)), use=0.5 if hard else 0.9)
    if not hard and rng.random() < 0.2:
        w.agent[on_device] = EMULATOR_UA
    here = np.repeat(country, n)
    if hard:  # one home line, as a household has
        w.share_ips(at, w.net.home(here[:1], 0.0), use=0.7)
        rest = at[pd.isna(w.ip[at])]
        w.ip[rest] = w.net.mobile(w.country[rest])
    else:
        w.share_ips(at, w.net.vpn(2) if rng.random() < 0.3 else w.net.home(here[:2], 0.1), use=0.9)
    w.t[at] = ring_times(rng, n, "steady" if hard else rng.choice(["steady", "waves"]), w.p.window_days, country)


def _mule(w: _World, at: np.ndarray, hard: bool) -> None:
    """Unrelated identities opened on a few devices, sometimes funded from the same cards."""
    rng, n, country = w.rng, len(at), w.country[at[0]]
    per_device = rng.uniform(2.5, 4) if hard else rng.uniform(5, 12)
    on_device = w.share("device", at, max(1, round(n / per_device)), use=0.85 if hard else 0.95)
    if rng.random() < 0.35:
        w.share("payment", at, int(rng.integers(1, 3)), use=rng.uniform(0.3, 0.7))
    if not hard and rng.random() < 0.25:
        w.agent[on_device] = EMULATOR_UA
    here = np.repeat(country, n)
    if hard:
        w.ip[at] = w.net.mobile(here)
    else:
        w.share_ips(at, w.net.home(here[:2], 0.1), use=0.85)
    style = rng.choice(["waves", "steady"]) if hard else rng.choice(["burst", "waves"])
    w.t[at] = ring_times(rng, n, style, w.p.window_days, country)


_RINGS = {"first_party_ring": _first_party, "synthetic_identity": _synthetic, "mule": _mule}


def _fraud(w: _World) -> None:
    total = round(w.n * w.p.fraud_share)
    spec = {kind: (low, high, alpha) for kind, low, high, alpha in w.p.ring_sizes}
    for kind, share in w.p.ring_mix:
        ring_sizes = sizes(w.rng, max(3, round(total * share)), *spec[kind])
        for size, hard in zip(ring_sizes, pick_hard(w.rng, len(ring_sizes), w.p.hard_ring_share)):
            at = w.take(int(size), kind, w.countries(1)[0])
            w.ring[at], w.rings = w.rings, w.rings + 1
            w.hard_rings += int(hard)
            _RINGS[kind](w, at, bool(hard))
