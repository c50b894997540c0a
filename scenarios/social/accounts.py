"""Accounts: country, time zone, activity profile, age, clients, devices and networks (``_Accounts``).

Honest accounts follow their group (households share a zone, fans and campuses mostly a
country); rings claim a country, keep farm shifts or run round the clock, are created in
batches, and reuse a few devices and their own address pools.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clients import _APP, _CHROME, _EMULATORS, _FARM_PHONES, _WIN, ANDROID, IOS, MWEB, WEB, _android_ua, _Clients
from .draws import _HEX, _random_text, _text, _uuid4
from .networks import LEGIT_NET, POOL_NET, PROXY_NET, _campus_pools, _carriers, _homes, _ring_pools
from .params import _END, AMP, CAMPUS, DAY, FAN, HOUR, HOUSE, MULTI, SLOW, SOCK, WINDOW_DAYS, SocialParams
from .population import _Population, _university
from .tables import _ANDROID_SHARE, _TZ, _WEIGHTS, CODES
from .timing import HUMAN, ROUND_THE_CLOCK, SHIFT, _times


@dataclass
class _Accounts:
    """Per-account profile arrays, plus the address pools rows draw from."""

    country: np.ndarray
    tz: np.ndarray               # UTC offset in hours of the account's (or its operator's) day
    profile: np.ndarray          # daily activity curve, see _PROFILES
    created: np.ndarray          # unix seconds
    ua: np.ndarray               # primary client (index into _Clients)
    ua2: np.ndarray              # secondary client or -1
    device: np.ndarray
    mobile: np.ndarray           # share of app rows on mobile data
    home: np.ndarray             # home index or -1
    net: np.ndarray              # LEGIT_NET, POOL_NET (ring addresses) or PROXY_NET (residential proxies)
    pool: np.ndarray             # (offset, length) into pool_ips: campus addresses or the ring's own
    resident: np.ndarray         # lives on campus: campus Wi-Fi at any hour
    carrier: np.ndarray
    mobile_v6: np.ndarray
    home_v4: np.ndarray
    home_v6: np.ndarray          # None where the home has no IPv6
    pool_ips: np.ndarray
    carrier_pool: np.ndarray     # (offset, length) per carrier into pool_ips
    ring_tz: np.ndarray
    ring_country: np.ndarray
    group_country: np.ndarray
    rate: np.ndarray             # expected organic rows


def _devices(rng, surface: np.ndarray) -> np.ndarray:
    """Device ids: iOS vendor UUIDs, Android ids (16 hex), web visitor ids (32 hex)."""
    out = _random_text(rng, len(surface), 32, _HEX)
    android = surface == ANDROID
    out[android] = _random_text(rng, int(android.sum()), 16, _HEX)
    ios = surface == IOS
    out[ios] = _text(_uuid4(rng, int(ios.sum()), upper=True))
    return out


def _accounts(p: SocialParams, pop: _Population, clients: _Clients, rng) -> _Accounts:
    n, ring, group = len(pop.kind), pop.ring, pop.group
    fraud = ring >= 0
    rkind = np.where(fraud, pop.ring_kind[np.maximum(ring, 0)], -1)
    rhard = fraud & pop.ring_hard[np.maximum(ring, 0)]
    first_of_group = np.where(group >= 0, pop.group_start[np.maximum(group, 0)], np.arange(n))
    first_of_ring = np.where(fraud, pop.ring_start[np.maximum(ring, 0)], np.arange(n))
    n_countries = len(CODES)

    # Country and time zone: households share both; fans and campuses mostly share the country;
    # sockpuppet and slow rings claim one target country.
    country = rng.choice(n_countries, n, p=_WEIGHTS)
    group_country = rng.choice(n_countries, len(pop.group_kind), p=_WEIGHTS)
    n_rings = len(pop.ring_kind)
    ring_country = np.where(rng.random(n_rings) < .5, 0, rng.choice(n_countries, n_rings, p=_WEIGHTS))  # 0: US
    u = rng.random(n)
    gk = np.where(group >= 0, pop.group_kind[np.maximum(group, 0)], -1)
    follow = (gk == HOUSE) | (gk == MULTI) | ((gk == FAN) & (u < .8)) | ((gk == CAMPUS) & (u < .9))
    country[follow] = group_country[group[follow]]
    claim = fraud & (rkind != AMP)
    country[claim] = ring_country[ring[claim]]
    tz = _TZ[country, rng.integers(0, _TZ.shape[1], n)]
    shared = (gk == HOUSE) | (gk == MULTI)
    tz[shared] = tz[first_of_group[shared]]
    ring_tz = rng.choice([1.0, 2.0, 3.0, 5.5, 7.0, 8.0], len(pop.ring_kind))
    profile = np.full(n, HUMAN)
    sock = rkind == SOCK
    tz[sock], profile[sock] = ring_tz[ring[sock]], SHIFT
    bots = (rkind == AMP) & ~rhard
    profile[bots] = ROUND_THE_CLOCK
    slow = rkind == SLOW
    tz[slow] = tz[first_of_ring[slow]]

    created = _created(pop, rng, tz, profile, rkind)

    # Clients: honest users by country; farms on emulators or one bulk phone model, easy
    # amplifiers on one pinned browser build, everyone else like the honest population.
    web = rng.random(n) < .18
    surface = np.where(web, WEB, np.where(rng.random(n) < _ANDROID_SHARE[country], ANDROID, IOS))
    ua = clients.sample(rng, surface)
    emulated = (surface == ANDROID) & ~fraud & (rng.random(n) < p.honest_emulator_share)
    emulators = np.array([clients.add(_android_ua(_APP[0][0], "9", e), ANDROID) for e in _EMULATORS])
    ua[emulated] = emulators[rng.integers(0, len(emulators), int(emulated.sum()))]
    has2 = rng.random(n) < .35
    surface2 = np.where(rng.random(n) < .7, WEB, MWEB)
    ua2 = np.where(has2, clients.sample(rng, surface2), -1)
    for r in np.flatnonzero(pop.ring_kind != SLOW):
        members = slice(pop.ring_start[r], pop.ring_start[r] + pop.ring_size[r])
        if pop.ring_kind[r] == SOCK:
            phone = (_FARM_PHONES[rng.integers(len(_FARM_PHONES))] if pop.ring_hard[r]
                     else _EMULATORS[rng.integers(len(_EMULATORS))])
            version = _APP[0][rng.integers(2)] if pop.ring_hard[r] else _APP[0][rng.integers(3, 6)]
            ua[members] = clients.add(_android_ua(version, "14" if pop.ring_hard[r] else "9", phone), ANDROID)
            surface[members], ua2[members] = ANDROID, -1
        elif not pop.ring_hard[r]:
            build = _CHROME.format(os=_WIN, v=rng.integers(128, 146))
            ua[members], surface[members], ua2[members] = clients.add(build, WEB), WEB, -1
    device = _devices(rng, surface)
    mobile = np.where(surface == WEB, .05, rng.uniform(.2, .7, n))

    # Households: some members signed up on the family device; a second account lives on its owner's phone.
    shares_device = rng.random(len(pop.group_kind)) < p.shared_device_household_share
    family_device = (gk == HOUSE) & shares_device[np.maximum(group, 0)]
    family_device &= (np.arange(n) != first_of_group) & (rng.random(n) < .7)
    same = family_device | ((gk == MULTI) & (np.arange(n) != first_of_group))
    for column in (ua, ua2, device, surface, mobile):
        column[same] = column[first_of_group[same]]
    # University computer labs: students signing up on the web often did so on a shared lab machine.
    for g in filter(_university, np.flatnonzero(pop.group_kind == CAMPUS)):
        members = pop.group_start[g] + np.flatnonzero(rng.random(pop.group_size[g]) < .3)
        members = members[surface[members] == WEB]
        if len(members) >= 2:
            labs = members[:max(1, len(members) // 8)]
            machine = labs[rng.integers(0, len(labs), len(members))]
            device[members], ua[members] = device[machine], ua[machine]
    # Farms and easy amplifier rings reuse a few devices or browser profiles across many accounts.
    for r in np.flatnonzero((pop.ring_kind == SOCK) | ((pop.ring_kind == AMP) & ~pop.ring_hard)):
        size, start = pop.ring_size[r], pop.ring_start[r]
        per_device = rng.uniform(3, 15) if pop.ring_kind[r] == SOCK else rng.uniform(2, 6)
        k = int(min(size - 1, max(1, np.ceil(size / per_device))))
        device[start:start + size] = device[start:start + k][rng.integers(0, k, size)]

    home, home_v4, home_v6 = _homes(pop, rng, country, first_of_group, gk, fraud)
    net = np.select([sock | bots, fraud], [POOL_NET, PROXY_NET], LEGIT_NET)
    carrier, carrier_pool, pools, mobile_v6 = _carriers(rng, country, net)
    pool = np.zeros((n, 2), dtype=np.int64)
    resident = np.zeros(n, dtype=bool)
    _campus_pools(rng, pop, group_country, pools, pool, resident)
    _ring_pools(rng, pop, ring_country, carrier_pool, pools, pool)
    pool_ips = np.concatenate(pools)

    rate = rng.lognormal(np.log(p.organic_rows) - .5, 1.0, n) * (rng.random(n) >= p.dormant_share)
    rate[(gk == MULTI) & (np.arange(n) != first_of_group)] *= .5
    rate[fraud] = 0.0
    return _Accounts(country, tz, profile, created, ua, ua2, device, mobile, home, net, pool, resident, carrier,
                     mobile_v6, home_v4, home_v6, pool_ips, carrier_pool, ring_tz, ring_country, group_country, rate)


def _created(pop, rng, tz, profile, rkind) -> np.ndarray:
    """Account creation times: honest accounts over years, farms in batches, amplifiers over months, slow rings aged."""
    n = len(pop.kind)
    new = rng.random(n) < .05
    age = rng.exponential(700, n) + WINDOW_DAYS
    age = np.where(age > 3300, rng.uniform(WINDOW_DAYS, 3300, n), age)  # the platform is nine years old
    age = np.where(new, rng.uniform(.3, WINDOW_DAYS - .5, n), age)
    age = np.where(rkind == AMP, rng.uniform(10, 300, n), np.where(rkind == SLOW, rng.uniform(90, 700, n), age))
    day = _END - (age * DAY).astype(np.int64)
    created = _times(rng, day - DAY // 2, day + DAY // 2, tz, profile)
    for r in np.flatnonzero(pop.ring_kind == SOCK):
        size, start = pop.ring_size[r], pop.ring_start[r]
        batches = rng.integers(1, 4)
        ages = rng.uniform(120, 500, batches) if pop.ring_hard[r] else rng.uniform(2, 70, batches)
        begin = _times(rng, _END - (ages * DAY).astype(np.int64), _END - (ages * DAY).astype(np.int64) + DAY,
                       tz[start], SHIFT)
        batch = np.sort(rng.integers(0, batches, size))
        gaps = rng.uniform(40, 600, size)
        steps = np.cumsum(gaps) - np.r_[0, np.cumsum(gaps)[:-1]][np.searchsorted(batch, batch)]
        created[start:start + size] = begin[batch] + steps.astype(np.int64)
    return np.minimum(created, _END - HOUR - rng.integers(0, HOUR, n))
