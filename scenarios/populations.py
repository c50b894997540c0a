"""Population recipes for the demo data: legitimate groups and distillation rings.

Each recipe fills integer "keys" for a block of accounts (same key = same value), plus a
usage profile that ``traffic`` turns into requests; ``population_tables`` renders the
keys into signup columns. Shares and group sizes scale with the number of accounts, and
the legitimate population shares identifiers the way real users do.
"""

from __future__ import annotations

import numpy as np

from . import fake_values as fv
from .population_model import (
    BUSINESS, CAMO, CARRIER, DAY, DIURNAL, E_PERSON, E_PLUS, E_SERIAL, E_STAFF,
    E_TOKEN, END, FAMILY, FARM, HYDRA, INDIVIDUAL, IP_CAMO, IP_CARRIER, IP_DC, IP_HOME,
    IP_POOL, IP_PROXY, IP_SERVER, IP_UNI, ORG, PROXY_USER, SDK_HEAVY, SMALL,
    T_BUSINESS, T_FLAT, T_SCHEDULE, TERM_STARTS, UNIVERSITY, Builder, Population, choice,
    person, sdk_ua, seconds_of_day, ua_mix)

# kind: (share of accounts, smallest group, largest group, fewest groups, long tail)
GROUP_PLAN = {
    ORG: (0.09, 3, 300, 3, True), UNIVERSITY: (0.07, 200, 5000, 3, False),
    CARRIER: (0.08, 1500, 30000, 2, False), FAMILY: (0.04, 2, 5, 3, False),
    FARM: (0.018, 20, 200, 2, False), HYDRA: (0.02, 100, 800, 2, False),
    CAMO: (0.014, 30, 150, 2, False), SMALL: (0.006, 3, 8, 3, False),
}
SOLO_SHARE = {PROXY_USER: 0.03, SDK_HEAVY: 0.015}


def _group_sizes(rng, budget: int, lo: int, hi: int, min_groups: int, tail: bool):
    """Sizes of groups filling `budget` accounts; ranges shrink for small populations."""
    floor = 2 if lo <= 2 else 3
    if budget < floor * min_groups:
        return np.array([budget], np.int64) if budget >= floor else np.zeros(0, np.int64)
    cap = budget // min_groups
    if cap < hi:
        lo, hi = max(floor, min(lo, int(lo * cap / hi))), cap
    draws = int(budget / lo) + 8
    u = rng.random(draws)
    if tail:
        sizes = np.minimum(hi, np.floor(lo * (1 - u) ** (-1 / 1.15)))
    else:
        sizes = np.floor(np.exp(np.log(lo) + u * (np.log(hi + 1) - np.log(lo))))
    sizes = sizes.astype(np.int64)
    cut = int(np.searchsorted(np.cumsum(sizes), budget))
    sizes = sizes[:cut + 1]
    sizes[-1] = budget - sizes[:-1].sum()
    if sizes[-1] < lo and len(sizes) > 1:
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    return sizes



def _individuals(bd, n):
    b = bd.block(INDIVIDUAL, n)
    person(bd, b)
    rng = bd.rng
    b["org"] = np.where(rng.random(n) < 0.03, bd.keys(n), -1)  # solo workspaces
    writers = rng.random(n) < 0.08  # long-form writers: legit high output/input
    b["ratio_mu"] = np.where(writers, np.log(4.0), np.log(0.45)).astype(np.float32)
    b["act"] *= 0.7


def _proxy_users(bd, n):
    b = bd.block(PROXY_USER, n)
    person(bd, b)
    rng = bd.rng
    vpn = rng.random(n) < 0.5
    start, length = bd.vpn
    b["ip_v6"][:] = -1
    b["ip_v4"] = np.where(vpn, bd.pool[0][rng.integers(0, length, n)],
                          bd.proxy_pool[rng.integers(0, len(bd.proxy_pool), n)])
    b["ip_profile"] = np.where(vpn, IP_DC, IP_PROXY).astype(np.int8)
    b["pool_start"][:], b["pool_len"][:] = start, length
    b["act"] *= 0.8


def _sdk_heavy(bd, n):
    b = bd.block(SDK_HEAVY, n)
    person(bd, b, card_p=0.9)
    rng = bd.rng
    # One or two servers of their own, in cloud /24s shared with other tenants.
    start, _ = bd.add_pool(fv.ipv4(fv.SPACE_CLOUD, rng.integers(0, bd.n_cloud24, 2 * n),
                                   rng.integers(2, 255, 2 * n)))
    b["pool_start"] = start + 2 * np.arange(n, dtype=np.int64)
    b["pool_len"] = rng.integers(1, 3, n).astype(np.int32)
    b["ip_profile"][:] = IP_SERVER
    b["usage_ua"] = sdk_ua(rng, n)
    b["time_mode"][:] = T_FLAT
    b["act"] = np.exp(0.6 * rng.standard_normal(n) - 0.18).astype(np.float32) * 10
    b["ratio_mu"][:] = np.log(0.3)
    b["in_mu"] += 1.0


def _orgs(bd, sizes):
    rng = bd.rng
    for size in sizes:
        g = bd.next_group(ORG)
        b = bd.block(ORG, size)
        country = choice(rng, 1, fv.COUNTRY_WEIGHTS)[0]
        person(bd, b, country=country, card_p=0.0)
        tz = fv.COUNTRY_TZ[country]
        b["group"][:] = g
        combos = len(fv.ORG_A) * len(fv.ORG_B)
        name = fv.ORG_A[g % len(fv.ORG_A)] + fv.ORG_B[(g // len(fv.ORG_A)) % len(fv.ORG_B)]
        dom = bd.domain(f"{name}{g // combos or ''}.example")
        staff = rng.random(size) < 0.95
        b["email_style"] = np.where(staff, E_STAFF, E_PERSON).astype(np.int8)
        b["email_domain"] = np.where(staff, dom, b["email_domain"]).astype(np.int32)
        b["phone_country"] = np.where(rng.random(size) < 0.35, country, -1).astype(np.int16)
        office = fv.ipv4(fv.SPACE_BUSINESS, np.repeat(bd.net("business"), 3),
                         rng.integers(2, 255, 3))[:rng.integers(1, 4)]
        b["pool_start"][:], b["pool_len"][:] = bd.add_pool(office)
        b["ip_v4"] = np.where(rng.random(size) < 0.85, office[rng.integers(0, len(office),
                                                                           size)], b["ip_v4"])
        b["ip_v6"][:] = -1
        b["ua"] = ua_mix(rng, size, 0.85, 0.15, 0.0)
        cards = bd.keys(2)
        b["card"] = np.where(rng.random(size) < 0.95, cards[0], -1)
        if size > 50:  # a second department card
            b["card"] = np.where(rng.random(size) < 0.2, cards[1], b["card"])
        b["org"] = np.where(rng.random(size) < 0.85, bd.keys(1)[0], -1)
        b["plan"][:] = 2
        t0 = END - 365 * DAY + rng.integers(0, 345 * DAY)
        days = np.minimum((rng.exponential(40, size)).astype(np.int64), (END - t0) // DAY - 1)
        if rng.random() < 0.25:  # burst hiring: many staff on one day, like a ring
            burst_day = rng.integers(0, max(1, (END - t0) // DAY - 1))
            days = np.where(rng.random(size) < 0.3, burst_day, days)
        b["created"] = t0 - t0 % DAY + days * DAY + seconds_of_day(
            rng, size, BUSINESS, np.full(size, tz))
        b["ip_profile"][:] = IP_POOL
        b["usage_ua"] = ua_mix(rng, size, 0.2, 0.7, 0.1, signup=b["ua"])
        b["time_mode"][:] = T_BUSINESS
        b["tpl_group"][:] = bd.template_groups
        b["n_tpl"][:] = rng.integers(1, 4)
        bd.template_groups += 1
        b["act"] = np.exp(0.8 * rng.standard_normal(size) - 0.32).astype(np.float32) * 1.2


def _universities(bd, sizes):
    rng = bd.rng
    for size in sizes:
        g = bd.next_group(UNIVERSITY)
        b = bd.block(UNIVERSITY, size)
        country = choice(rng, 1, fv.COUNTRY_WEIGHTS)[0]
        person(bd, b, country=country, card_p=0.25)
        b["group"][:] = g
        place = fv.PLACES[g % len(fv.PLACES)]
        dom = bd.domain(f"{place}-university{g // len(fv.PLACES) or ''}.example")
        student = rng.random(size) < 0.8
        b["email_style"] = np.where(student, E_PERSON, b["email_style"]).astype(np.int8)
        b["email_domain"] = np.where(student, dom, b["email_domain"]).astype(np.int32)
        b["email_numbered"] |= student
        nat = fv.ipv4(fv.SPACE_UNIVERSITY, np.repeat(bd.net("uni"), 4),
                      rng.integers(2, 255, 4))[:rng.integers(2, 5)]
        b["pool_start"][:], b["pool_len"][:] = bd.add_pool(nat)
        b["ip_v4"] = np.where(rng.random(size) < 0.75, nat[rng.integers(0, len(nat), size)],
                              b["ip_v4"])
        b["ip_v6"][:] = -1
        b["device"] = np.where(rng.random(size) < 0.95, bd.keys(size), -1)
        b["org"] = np.where(rng.random(size) < 0.15, bd.keys(1)[0], -1)
        # Term-start signup waves: a legitimate burst of hundreds of accounts.
        wave = np.array(TERM_STARTS)[(rng.random(size) < 0.4).astype(int)]
        wave = wave + rng.integers(-4, 5) * DAY
        burst = wave + (rng.exponential(1.5, size) * DAY).astype(np.int64)
        b["created"] = np.where(rng.random(size) < 0.8, burst, b["created"])
        b["created"] = np.minimum(b["created"], END - DAY)
        b["ip_profile"][:] = IP_UNI
        b["usage_ua"] = ua_mix(rng, size, 0.5, 0.5, 0.0, signup=b["ua"])
        b["tpl_group"][:] = bd.template_groups
        b["n_tpl"][:] = rng.integers(3, 7)
        bd.template_groups += 1
        b["ratio_mu"][:] = np.log(0.8)
        b["act"] *= 0.6


def _carriers(bd, sizes):
    rng = bd.rng
    start = bd.pool_len
    for size in sizes:
        g = bd.next_group(CARRIER)
        b = bd.block(CARRIER, size)
        country = choice(rng, 1, fv.COUNTRY_WEIGHTS)[0]
        person(bd, b, country=country, card_p=0.35)
        b["group"][:] = g
        k = max(2, size // 250)  # CGNAT: each public address fronts hundreds of users
        nets = bd.net("carrier", max(1, k // 40 + 1))
        cgnat = fv.ipv4(fv.SPACE_CARRIER, rng.choice(nets, k), rng.integers(2, 255, k))
        b["pool_start"][:], b["pool_len"][:] = bd.add_pool(cgnat)
        b["ip_v4"] = cgnat[rng.integers(0, k, size)]
        b["ip_v6"][:] = -1
        b["phone_country"] = np.where(rng.random(size) < 0.7, country, -1).astype(np.int16)
        b["ua"] = ua_mix(rng, size, 0.7, 0.3, 0.0)
        b["ua"] = np.where(b["ua"] < fv.UA_SDK0, rng.integers(6, 9, size), b["ua"])
        b["device"] = np.where(rng.random(size) < 0.95, bd.keys(size), -1)
        b["ip_profile"][:] = IP_CARRIER
        b["act"] *= 0.5
    bd.carrier_span = (start, bd.pool_len - start)


def _families(bd, sizes):
    rng = bd.rng
    for size in sizes:
        g = bd.next_group(FAMILY)
        b = bd.block(FAMILY, size)
        country = choice(rng, 1, fv.COUNTRY_WEIGHTS)[0]
        person(bd, b, country=country, card_p=0.0)
        b["group"][:] = g
        b["ip_v4"][:] = b["ip_v4"][0]
        b["ip_v6"][:] = b["ip_v6"][0]
        if rng.random() < 0.7:
            b["device"][:] = bd.keys(1)[0]
        if rng.random() < 0.8:
            b["card"][:] = bd.keys(1)[0]
        b["plan"] = (b["card"] >= 0).astype(np.int8)
        first = b["created"].min()
        b["created"] = np.minimum(first + rng.integers(0, 60 * DAY, size), END - DAY)
        b["created"][0] = first
        b["ip_profile"][:] = IP_HOME
        b["act"] *= 0.5


def _ring(bd, b, kind):
    g = bd.next_group(kind)
    b["group"][:] = g
    b["ring"][:] = bd.rings
    b["tpl_group"][:] = bd.rings
    bd.rings += 1
    return g


def _farms(bd, sizes):
    rng = bd.rng
    for size in sizes:
        b = bd.block(FARM, size)
        person(bd, b, country=choice(rng, 1, fv.COUNTRY_WEIGHTS)[0], card_p=0)
        _ring(bd, b, FARM)
        style = choice(rng, 1, [0.4, 0.35, 0.25])[0]
        serial = rng.integers(1, 400) + np.arange(size)
        b["email_serial"] = serial.astype(np.int32)
        b["email_numbered"][:] = False
        if style == 0:  # jsmith+0007@gmail.com, dots varied to dodge naive dedup
            b["email_style"][:], b["email_key"][:] = E_PLUS, bd.keys(1)[0]
            b["email_domain"][:] = 0
            b["email_dotted"] = rng.random(size) < 0.3
        elif style == 1:  # data.worker.0042@provider
            b["email_style"][:], b["email_key"][:] = E_SERIAL, bd.keys(1)[0]
            b["email_domain"][:] = rng.choice([0, 2, len(fv.FREE_DOMAINS) + rng.integers(7)])
        else:
            b["email_style"][:] = E_TOKEN
            b["email_domain"][:] = len(fv.FREE_DOMAINS) + rng.integers(0, 7)
        if rng.random() < 0.25:  # a few VoIP numbers on every account
            b["phone_country"][:] = 0
            b["phone_key"] = bd.keys(3)[rng.integers(0, 3, size)]
        else:
            b["phone_country"][:] = -1
        hosts = fv.ipv4(fv.SPACE_CLOUD, np.full(12, rng.integers(0, bd.n_cloud24)),
                        rng.choice(np.arange(2, 255), 12, replace=False))[:rng.integers(3, 13)]
        b["pool_start"][:], b["pool_len"][:] = bd.add_pool(hosts)
        b["ip_v4"], b["ip_v6"][:] = hosts[rng.integers(0, len(hosts), size)], -1
        devices = bd.keys(rng.integers(1, 5))
        b["device"] = np.where(rng.random(size) < 0.9, devices[rng.integers(0, len(devices),
                                                                           size)], -1)
        ua = choice(rng, 1, [0.7, 0.2, 0.1])[0]
        b["ua"][:] = [fv.UA_SCRIPT0 + rng.integers(0, len(fv.SCRIPT_UAS)),
                      sdk_ua(rng, 1)[0], rng.integers(0, len(fv.BROWSER_UAS))][ua]
        cards = bd.keys(rng.integers(2, 6))
        b["card"] = np.where(rng.random(size) < 0.85, cards[rng.integers(0, len(cards), size)],
                             -1)
        b["plan"] = (b["card"] >= 0).astype(np.int8)
        b["org"][:] = bd.keys(1)[0] if rng.random() < 0.25 else -1
        t0 = END - rng.integers(2 * DAY, 60 * DAY)
        b["created"] = t0 + rng.integers(0, rng.integers(1, 9) * 3600, size)
        b["ip_profile"][:] = IP_DC
        b["usage_ua"] = b["ua"]
        b["time_mode"][:] = T_SCHEDULE
        b["sched_hour"][:], b["sched_width"][:] = rng.integers(0, 24), rng.integers(10, 21)
        b["n_tpl"][:] = rng.integers(2, 6)
        b["act"] = np.exp(0.3 * rng.standard_normal(size)).astype(np.float32) * 6
        b["ratio_mu"][:] = np.log(6)
        b["in_mu"][:] = np.log(rng.integers(150, 600))


def _hydras(bd, sizes):
    rng = bd.rng
    for size in sizes:
        b = bd.block(HYDRA, size)
        person(bd, b, card_p=0)
        _ring(bd, b, HYDRA)
        b["phone_country"] = np.where(rng.random(size) < 0.15, b["country"], -1)
        # Every signup from a different residential proxy exit.
        b["ip_v4"] = bd.proxy_pool[rng.choice(len(bd.proxy_pool), size, replace=False)]
        b["ip_v6"][:] = -1
        b["device"] = np.where(rng.random(size) < 0.95, bd.keys(size), -1)
        sdk = sdk_ua(rng, 1)[0]
        b["ua"] = np.where(rng.random(size) < 0.6, sdk, b["ua"] % fv.UA_SDK0).astype(np.int16)
        n_cards = int(np.clip(round(size / 40), 5, 15)) if size >= 40 else max(1, size // 3)
        cards = bd.keys(n_cards)
        b["card"] = np.where(rng.random(size) < 0.9, cards[rng.integers(0, n_cards, size)], -1)
        b["plan"] = (b["card"] >= 0).astype(np.int8)
        t0 = END - rng.integers(7 * DAY, 45 * DAY)
        b["created"] = t0 + rng.integers(0, rng.integers(2, 6) * DAY, size)
        b["ip_profile"][:] = IP_PROXY
        b["usage_ua"][:] = sdk
        b["n_tpl"][:] = rng.integers(3, 9)
        b["act"][:] = 5
        b["ratio_mu"][:] = np.log(9)
        b["in_mu"][:] = np.log(rng.integers(150, 500))


def _camouflaged(bd, sizes):
    rng = bd.rng
    for size in sizes:
        b = bd.block(CAMO, size)
        tz = person(bd, b, card_p=0.85)  # unique cards: nothing to share
        _ring(bd, b, CAMO)
        per = rng.integers(2, 5)
        voip = bd.keys(size // per + 1)[np.arange(size) // per]
        has = rng.random(size) < 0.85
        b["phone_key"] = np.where(has, voip, b["phone_key"])
        b["phone_country"] = np.where(has, rng.choice([0, 2]), -1).astype(np.int16)
        b["ip_v4"] = bd.proxy_pool[rng.choice(len(bd.proxy_pool), size, replace=False)]
        b["ip_v6"][:] = -1
        shared = rng.random(size) < 0.2  # a few devices reused by 2-3 accounts
        reused = bd.keys(max(1, size // 12))
        b["device"] = np.where(shared, reused[rng.integers(0, len(reused), size)], b["device"])
        b["ua"] = (b["ua"] % fv.UA_SDK0).astype(np.int16)
        spread = rng.integers(14, 43) * DAY
        t0 = END - spread - rng.integers(3 * DAY, 80 * DAY)
        b["created"] = t0 - t0 % DAY + rng.integers(0, spread // DAY, size) * DAY + \
            seconds_of_day(rng, size, DIURNAL, tz)
        b["ip_profile"][:] = IP_CAMO
        b["usage_ua"] = ua_mix(rng, size, 0.3, 0.7, 0.0, signup=b["ua"])
        b["n_tpl"][:] = rng.integers(2, 6)
        b["act"][:] = 3
        b["ratio_mu"][:] = np.log(3)
        b["in_mu"][:] = np.log(rng.integers(200, 700))


def _small_rings(bd, sizes):
    rng = bd.rng
    for size in sizes:
        b = bd.block(SMALL, size)
        person(bd, b, country=choice(rng, 1, fv.COUNTRY_WEIGHTS)[0], card_p=0.3)
        _ring(bd, b, SMALL)
        if rng.random() < 0.4:
            b["email_style"][:], b["email_key"][:], b["email_domain"][:] = (
                E_PLUS, bd.keys(1)[0], 0)
            b["email_serial"] = (rng.integers(1, 50) + np.arange(size)).astype(np.int32)
        share_card = rng.random() < 0.7
        if share_card:
            b["card"][:] = bd.keys(1)[0]
        if not share_card or rng.random() < 0.3:
            b["device"][:] = bd.keys(1)[0]
        b["plan"] = (b["card"] >= 0).astype(np.int8)
        if rng.random() < 0.5:  # the operator's own home connection
            b["ip_v4"][:], b["ip_v6"][:] = b["ip_v4"][0], b["ip_v6"][0]
        t0 = END - rng.integers(2 * DAY, 90 * DAY)
        b["created"] = t0 + rng.integers(0, rng.integers(1800, 3 * 3600), size)
        b["ip_profile"][:] = IP_HOME
        b["usage_ua"][:] = ua_mix(rng, 1, 0.0, 0.5, 0.5)[0]
        b["time_mode"][:] = T_SCHEDULE
        b["sched_hour"][:], b["sched_width"][:] = rng.integers(0, 24), rng.integers(2, 7)
        b["n_tpl"][:] = rng.integers(1, 3)
        b["act"][:] = 4
        b["ratio_mu"][:] = np.log(5)
        b["in_mu"][:] = np.log(rng.integers(150, 600))


_RECIPES = {ORG: _orgs, UNIVERSITY: _universities, CARRIER: _carriers, FAMILY: _families,
            FARM: _farms, HYDRA: _hydras, CAMO: _camouflaged, SMALL: _small_rings}


def build_population(accounts: int, seed: int) -> Population:
    """Plan group sizes for `accounts` and run every recipe; deterministic in the seed."""
    if accounts < 500:
        raise ValueError("the demo population needs at least 500 accounts")
    bd = Builder(accounts, seed)
    bd.carrier_span = (0, 0)
    for kind, (share, lo, hi, min_groups, tail) in GROUP_PLAN.items():
        sizes = _group_sizes(bd.rng, int(round(share * accounts)), lo, hi, min_groups, tail)
        _RECIPES[kind](bd, sizes)
    _proxy_users(bd, int(round(SOLO_SHARE[PROXY_USER] * accounts)))
    _sdk_heavy(bd, int(round(SOLO_SHARE[SDK_HEAVY] * accounts)))
    _individuals(bd, accounts - bd.count)
    cols = {k: np.concatenate([b[k] for b in bd.blocks]) for k in bd.blocks[0]}
    cols["created"] = np.minimum(cols["created"], END - 3600)
    # A number from another country is written in international form.
    foreign = cols["phone_country"] != cols["country"]
    cols["phone_fmt"] = np.where(foreign, cols["phone_fmt"] % 2, cols["phone_fmt"])
    cols["act"] = cols["act"].astype(np.float32)
    return Population(cols=cols, ip_pool=np.concatenate(bd.pool),
                      proxy_pool=bd.proxy_pool, carrier_span=bd.carrier_span,
                      domains=bd.domains, n_resi24=bd.n_resi24, n_cloud24=bd.n_cloud24)
