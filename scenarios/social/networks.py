"""Network and IP space: where accounts and rows come from.

Homes, carriers' CGNAT egress pools, campus and office NAT, rings' datacenter addresses and
4G modems, residential proxies; and from these the address of each signup and each usage row.
"""

from __future__ import annotations

import numpy as np

from .clients import WEB
from .draws import _OCTETS, _ipv4, _ipv6, _slash16
from .params import CAMPUS, DAY, HOUR, HOUSE, MULTI, SOCK
from .population import _university
from .tables import _CARRIER_ROWS, _COUNTRIES, _DATACENTER, _UNIVERSITY_NETS, CODES

LEGIT_NET, POOL_NET, PROXY_NET = range(3)


def _residential(rng, country: np.ndarray) -> np.ndarray:
    """A random consumer broadband IPv4 address in each country."""
    nets = [np.array(c.nets) for c in _COUNTRIES]
    first = np.empty(len(country), dtype=np.int64)
    for c, options in enumerate(nets):
        at = country == c
        first[at] = options[rng.integers(0, len(options), int(at.sum()))]
    return _ipv4(_slash16(first, rng), rng, len(country))


def _homes(pop, rng, country, first_of_group, gk, fraud):
    """One home per household and per person with two accounts, one per other honest account."""
    n = len(pop.kind)
    owner = np.where((gk == HOUSE) | (gk == MULTI), first_of_group, np.arange(n))
    owners, home = np.unique(owner, return_inverse=True)
    home = np.where(fraud, -1, home)
    v4 = _residential(rng, country[owners])
    prefixes = np.array([c.v6 for c in _COUNTRIES], dtype=object)[country[owners]]
    v6 = np.full(len(owners), None, dtype=object)
    dual = np.flatnonzero(rng.random(len(owners)) < .25)
    v6[dual] = _ipv6(prefixes[dual], rng, len(dual), 7)
    return home, v4, v6


def _carriers(rng, country, net):
    """Carrier per account and each carrier's CGNAT egress pool, sized so that each address serves hundreds."""
    n = len(country)
    rows = np.array([c for c, _, _ in _CARRIER_ROWS])
    carrier = np.empty(n, dtype=np.int64)
    for c in range(len(CODES)):
        at = country == c
        options = np.flatnonzero(rows == c)
        carrier[at] = options[rng.integers(0, len(options), int(at.sum()))]
    users = np.bincount(carrier[net == LEGIT_NET], minlength=len(_CARRIER_ROWS))
    pools, carrier_pool, offset = [], np.zeros((len(_CARRIER_ROWS), 2), dtype=np.int64), 0
    for k, (_, v4, _) in enumerate(_CARRIER_ROWS):
        size = max(4, int(users[k]) // 300)
        blocks = rng.integers(0, 256, max(2, size // 40))
        ips = (v4 + "." + _OCTETS[blocks[rng.integers(0, len(blocks), size)]] + "."
               + _OCTETS[rng.integers(1, 255, size)])
        pools.append(ips)
        carrier_pool[k] = offset, size
        offset += size
    v6 = np.array([r[2] for r in _CARRIER_ROWS], dtype=object)[carrier]
    return carrier, carrier_pool, pools, _ipv6(v6, rng, n, 6, shared=8)


def _append(pools: list, ips: np.ndarray) -> tuple[int, int]:
    offset = sum(len(x) for x in pools)
    pools.append(np.asarray(ips, dtype=object))
    return offset, len(ips)


def _campus_pools(rng, pop, group_country, pools, pool, resident) -> None:
    """Campus and office NAT: one to four public addresses in one /24 per site."""
    for g in np.flatnonzero(pop.group_kind == CAMPUS):
        start, size = pop.group_start[g], pop.group_size[g]
        university = _university(g)
        first = (rng.choice(_UNIVERSITY_NETS) if university
                 else rng.choice(_COUNTRIES[group_country[g]].nets))
        net24 = f"{first}.{rng.integers(0, 256)}.{rng.integers(0, 256)}"
        hosts = 1 + rng.choice(253, rng.integers(1, 5), replace=False)
        pool[start:start + size] = _append(pools, np.array([f"{net24}.{h}" for h in hosts], dtype=object))
        if university:
            resident[start:start + size] = rng.random(size) < .35


def _ring_pools(rng, pop, ring_country, carrier_pool, pools, pool) -> None:
    """Farm addresses: a datacenter /24 or 4G modems in a carrier's CGNAT pool; easy amplifiers' datacenter proxies."""
    all_ips = np.concatenate(pools[:len(_CARRIER_ROWS)])
    for r in np.flatnonzero(~pop.ring_hard):
        start, size = pop.ring_start[r], pop.ring_size[r]
        nets = 1 if pop.ring_kind[r] == SOCK else rng.integers(2, 4)
        hosts = rng.integers(1, 5) if pop.ring_kind[r] == SOCK else rng.integers(10, 41)
        prefix = np.repeat(np.array(_DATACENTER, dtype=object)[rng.integers(0, len(_DATACENTER), nets)]
                           + "." + _OCTETS[rng.integers(0, 256, nets)], hosts)
        pool[start:start + size] = _append(pools, prefix + "." + _OCTETS[rng.integers(1, 255, len(prefix))])
    for r in np.flatnonzero(pop.ring_hard & (pop.ring_kind == SOCK)):
        start, size = pop.ring_start[r], pop.ring_size[r]
        options = [k for k, row in enumerate(_CARRIER_ROWS) if row[0] == ring_country[r]]
        offset, length = carrier_pool[options[rng.integers(len(options))]]
        modems = all_ips[offset + rng.integers(0, length, rng.integers(2, 5))]
        pool[start:start + size] = _append(pools, modems)


def _pick(spans: np.ndarray, rng) -> np.ndarray:
    """Index of a random address in each (offset, length) span of the pool."""
    return spans[:, 0] + (rng.random(len(spans)) * spans[:, 1]).astype(np.int64)


def _row_network(rng, acct, ts, acc, surface_of) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Client and address per row: home, mobile data (carrier CGNAT), campus Wi-Fi, elsewhere, or the ring's.

    Returns the user agent per row and the addresses as a vocabulary and an index into it.
    """
    n = len(acct)
    second = (acc.ua2[acct] >= 0) & (rng.random(n) < .2)
    ua = np.where(second, acc.ua2[acct], acc.ua[acct])
    surface = surface_of[ua]
    net = acc.net[acct]
    legit = net == LEGIT_NET
    mobile = legit & (surface != WEB) & (rng.random(n) < acc.mobile[acct])
    local = ts + (acc.tz[acct] * HOUR).astype(np.int64)
    hour, weekday = local // HOUR % 24, (local // DAY + 3) % 7 < 5
    campus = (legit & ~mobile & (acc.pool[acct, 1] > 0) & (rng.random(n) < .85)
              & (acc.resident[acct] | (weekday & (hour >= 8) & (hour < 18))))
    away = legit & ~mobile & ~campus & (rng.random(n) < .03)
    home = legit & ~mobile & ~campus & ~away
    away |= net == PROXY_NET
    fresh = _residential(rng, acc.country[acct[away]])
    vocab = [acc.home_v4, acc.home_v6, acc.mobile_v6, acc.pool_ips, fresh]
    v4, v6, mobile_v6, pool, new = np.cumsum([0] + [len(v) for v in vocab])[:5]
    index = np.empty(n, dtype=np.int64)
    on_v6 = mobile & (rng.random(n) < .35)
    index[on_v6] = mobile_v6 + acct[on_v6]
    cgnat = mobile & ~on_v6
    index[cgnat] = pool + _pick(acc.carrier_pool[acc.carrier[acct[cgnat]]], rng)
    pooled = campus | (net == POOL_NET)
    index[pooled] = pool + _pick(acc.pool[acct[pooled]], rng)
    index[away] = new + np.arange(len(fresh))
    homes = acc.home[acct[home]]
    dual = (acc.home_v6[homes] != None) & (rng.random(len(homes)) < .6)
    index[home] = np.where(dual, v6, v4) + homes
    return ua, np.concatenate(vocab), index


def _signup_ips(rng, acc, surface_of) -> np.ndarray:
    """Signup address: home (or mobile data, or campus) for honest accounts, the ring's or a proxy's for fraud."""
    n = len(acc.net)
    u = rng.random(n)
    legit = acc.net == LEGIT_NET
    campus = legit & (acc.pool[:, 1] > 0) & (u < .6)
    mobile = legit & ~campus & (surface_of[acc.ua] != WEB) & (rng.random(n) < .25)
    ip = np.where(acc.home >= 0, acc.home_v4[np.maximum(acc.home, 0)], None)
    v6 = acc.home_v6[np.maximum(acc.home, 0)]
    ip = np.where((acc.home >= 0) & (v6 != None) & (rng.random(n) < .4), v6, ip)
    ip[mobile] = acc.pool_ips[_pick(acc.carrier_pool[acc.carrier[mobile]], rng)]
    pooled = campus | (acc.net == POOL_NET)
    ip[pooled] = acc.pool_ips[_pick(acc.pool[pooled], rng)]
    proxy = acc.net == PROXY_NET
    ip[proxy] = _residential(rng, acc.country[proxy])
    return ip
