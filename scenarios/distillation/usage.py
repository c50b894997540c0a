"""Usage of the distillation world: hourly buckets of API requests per account.

Unit schedules, the hour of every request, models, tokens, prompt fingerprints, request IPs
and clients, merged into buckets (single requests for the paraphrasing rings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import DAYS, EMBED, HOURS, K, KINDS, MODELS, RINGS, RUNS, START, TRAFFIC, WORK, Params, Traffic
from .values import BROWSERS, CLIENTS, CLIENT_WEIGHTS, CLOUD, _hex64, _home_ips, _random64, _v4, _v4_text
from .world import World, _choose, _diurnal_hours, _pool, _shared, _take


def _schedules(rng, p: Params, w: World) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the hours its members work together, as sorted keys unit * HOURS + hour.

    Companies keep office hours, universities hold classes, rings run their harvesting jobs:
    runs placed at random after the ring's first signup, at waking hours for rings that pose
    as people, and one run a day at about the same hour for the paraphrasing rings. Returns
    the keys and, per unit, whether its members drift off the schedule (jitter).
    """
    first = np.minimum.reduceat(w.created_h, w.unit_first)
    unit_tz = w.tz[w.unit_first]
    keys = []
    weekdays = np.array([d for d in range(DAYS) if d % 7 < 5])
    for unit in np.flatnonzero(np.isin(w.unit_kind, [K[k] for k in ("company", "university") + RINGS])):
        kind, tz = KINDS[w.unit_kind[unit]], unit_tz[unit]
        if kind == "company":
            hours = (weekdays[:, None] * 24 + np.arange(10, 16) - tz).ravel()
        elif kind == "university":
            slots = rng.integers(0, 5, 8) * 24 + rng.integers(9, 18, 8)
            hours = (np.arange(4)[:, None] * 168 + slots - tz).ravel()
        else:
            begin = first[unit] + rng.uniform(1, 24)
            if kind == "paraphrase":
                days = np.arange(int(np.ceil(begin / 24)), DAYS)
                wobble = np.rint(rng.normal(0, 1, len(days))).astype(int)
                starts = days * 24 + rng.integers(0, 24) + wobble
                lengths = rng.integers(4, 9, len(days))
            else:
                lo, hi, short, long_ = RUNS[kind]
                runs = rng.integers(lo, hi + 1)
                starts = (begin + rng.random(runs) * (HOURS - begin)).astype(int)
                if kind in ("camouflage", "small_ring"):
                    starts = starts // 24 * 24 + rng.integers(9, 21, runs) - tz
                lengths = rng.integers(short, long_ + 1, runs)
            into = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            hours = np.repeat(starts, lengths) + into
        hours = np.unique(hours[(hours >= 0) & (hours < HOURS)])
        keys.append(unit * HOURS + hours)
    ring = np.isin(w.unit_kind, [K[k] for k in RINGS])
    jitter = ring & (rng.random(len(w.unit_kind)) < p.jitter_share)
    return np.concatenate(keys).astype(np.int64), jitter


def _row_hours(rng, p: Params, w: World, ra: np.ndarray, traffic: dict) -> np.ndarray:
    """The hour bucket of every usage row: on the unit's schedule or in the owner's own rhythm."""
    r, unit, kind = len(ra), w.acc_unit[ra], w.acc_kind[ra]
    start = np.ceil(w.created_h[ra]).astype(np.int64)
    tz = w.tz[ra]
    profile = traffic["day"][kind]
    t = start + rng.random(r) * (HOURS - start)
    retry = start + rng.random(r) * (HOURS - start)
    weekend = ((t + tz) // 24 % 7 >= 5) & (profile == WORK) & (rng.random(r) < 0.85)
    t = np.where(weekend, retry, t)
    own = (t + tz) // 24 * 24 + _diurnal_hours(rng, profile) - tz
    own = np.clip(own, start, HOURS - 1).astype(np.int64)
    keys, jitter = _schedules(rng, p, w)
    lo = np.searchsorted(keys, unit * HOURS + start)
    hi = np.searchsorted(keys, (unit + 1) * HOURS)
    synced = (rng.random(r) < traffic["synced"][kind]) & (lo < hi)
    at = np.minimum(lo + (rng.random(r) * (hi - lo)).astype(np.int64), len(keys) - 1)
    slot = keys[at] - unit * HOURS
    hour = np.where(synced, slot, own)
    j = p.jitter_hours
    drift = rng.integers(-j, j + 1, w.n)[ra] + rng.integers(-j, j + 1, r)
    return np.where(jitter[unit], np.clip(hour + drift, start, HOURS - 1), hour)


def _lognormal(rng, sigma: np.ndarray) -> np.ndarray:
    """Mean-one lognormal factors."""
    return np.exp(rng.normal(0, 1, len(sigma)) * sigma - sigma ** 2 / 2)


def _usage(rng, p: Params, w: World) -> pd.DataFrame:
    """Hourly usage buckets of every account (single requests for the paraphrasing rings)."""
    tr = {f: np.array([getattr(TRAFFIC[k], f) for k in KINDS]) for f in Traffic._fields}
    n, kind, unit, nu = w.n, w.acc_kind, w.acc_unit, len(w.unit_kind)
    tight = tr["tight"][kind]
    # Ring members run one script: their activity differs less than honest users'.
    unit_level = _lognormal(rng, tr["spread"][w.unit_kind])[unit]
    activity = np.where(tight, unit_level * _lognormal(rng, np.full(n, .15)),
                        _lognormal(rng, tr["spread"][kind]))
    active = (rng.random(n) >= tr["idle"][kind]) * (HOURS - w.created_h) / HOURS
    rows = rng.poisson(tr["rows"][kind] * activity * active)
    ra = np.repeat(np.arange(n), rows)
    r, k, u = len(ra), kind[ra], unit[ra]
    hour = _row_hours(rng, p, w, ra, tr)

    rate = tr["per_row"][kind] * np.where(tight, _lognormal(rng, np.full(nu, .4))[unit],
                                          _lognormal(rng, np.full(n, .5)))
    requests = 1 + rng.poisson(rate[ra])
    steady = k == K["farm"]  # a load balancer spreads a farm's requests evenly over its accounts
    even = (1 + rate[ra][steady]) * rng.normal(1, .08, int(steady.sum()))
    requests[steady] = np.maximum(1, np.rint(even))

    # Model mix: a unit's taste, each member's own variation (little of it in a ring).
    def mixes(profile: np.ndarray, concentration: np.ndarray) -> np.ndarray:
        g = rng.gamma(profile * concentration[:, None] + 1e-3)
        return g / g.sum(axis=1, keepdims=True)
    profiles = np.array([TRAFFIC[x].models for x in KINDS])
    unit_mix = mixes(profiles[w.unit_kind], np.full(nu, 30.0))
    acc_mix = mixes(unit_mix[unit], np.where(tight, 300.0, 8.0))
    model = (rng.random(r)[:, None] > np.cumsum(acc_mix, axis=1)[ra]).sum(axis=1)
    model = np.minimum(model, len(MODELS) - 1)

    # Tokens per request: the unit's typical prompt and answer length, each member's own.
    tokens = np.array([TRAFFIC[x].tokens for x in KINDS], dtype=float)
    medians = tokens[w.unit_kind][unit] * np.exp(rng.normal(0, .35, (nu, 2)))[unit]
    medians *= np.exp(rng.normal(0, 1, (n, 2)) * np.where(tight, .08, .5)[:, None])
    sigma = np.where(tight[ra], .35, 1.0) / np.sqrt(requests)
    per_request = medians[ra] * np.exp(rng.normal(0, 1, (r, 2)) * sigma[:, None])
    input_tokens = np.maximum(requests, np.rint(requests * per_request[:, 0])).astype(np.int64)
    output_tokens = np.rint(requests * np.minimum(per_request[:, 1], 8192)).astype(np.int64)
    output_tokens[model == EMBED] = 0

    # Prompt templates: popular SDK ones, the unit's own, or a prompt of the account's own.
    sdk_p = 1.0 / np.arange(1, p.sdk_templates + 1) ** p.sdk_zipf
    sdk_p /= sdk_p.sum()
    sdk_fp, favourite = _random64(rng, p.sdk_templates), _choose(rng, n, sdk_p)
    pool = _pool(rng, w, "template")
    pool_fp = _random64(rng, pool.total)
    src = rng.random(r)
    on_sdk = src < tr["sdk"][k]
    on_pool = ~on_sdk & (src < tr["sdk"][k] + tr["shared"][k]) & (pool.size[u] > 0)
    fp = _random64(rng, r).copy()
    sdk_pick = np.where(rng.random(r) < .7, favourite[ra], _choose(rng, r, sdk_p))
    fp[on_sdk] = sdk_fp[sdk_pick[on_sdk]]
    fp[on_pool] = pool_fp[pool.pick(rng, u[on_pool], skew=1.6)]

    # Request IPs: the account's own address, its unit's pool, or roaming.
    w_own, w_pool = tr["ips"][k, 0], tr["ips"][k, 1]
    src = rng.random(r)
    has_pool = w.ip_pool.size[u] > 0
    ip = w.own_ip[ra].copy()
    in_pool = (src >= w_own) & (src < w_own + w_pool) & has_pool
    ip[in_pool] = w.ip_codes[w.ip_pool.pick(rng, u[in_pool])]
    roam = src >= w_own + w_pool
    proxy_kind = np.isin(k, [K[x] for x in ("hydra", "camouflage", "paraphrase")])
    via_proxy = roam & (proxy_kind | (rng.random(r) < p.vpn_share))
    ip[via_proxy] = w.proxy[0] + rng.integers(0, w.proxy[1], int(via_proxy.sum()))
    fresh = roam & ~via_proxy
    cloud = np.isin(k, [K[x] for x in ("sdk_user", "power_user", "farm")])
    count = int(fresh.sum())
    fresh_ips = np.where(cloud[fresh], _v4_text(_v4(rng, count, CLOUD)), _home_ips(rng, count))
    ip[fresh] = sum(map(len, w.ips)) + np.arange(count)
    ip_table = np.concatenate(w.ips + [fresh_ips])

    # Clients: the account's usual SDK (or the web console, in its browser), sometimes another.
    client = _choose(rng, n, CLIENT_WEIGHTS)
    console = np.isin(kind, [K[x] for x in ("individual", "household", "mobile_carrier", "university")])
    client = np.where(console & (rng.random(n) < .4), len(CLIENTS) + w.browser, client)
    cpool, cpick = _shared(rng, w, "client")
    client = _take(_choose(rng, cpool.total, CLIENT_WEIGHTS), cpick, client)
    loyal = np.where(k == K["hydra"], .3, .92)
    ua = np.where(rng.random(r) < loyal, client[ra], _choose(rng, r, CLIENT_WEIGHTS))
    return _buckets(w, ra, hour, fp, ip, model, ua, requests, input_tokens, output_tokens, ip_table)


def _buckets(w: World, ra, hour, fp, ip, model, ua, requests, input_tokens, output_tokens,
             ip_table) -> pd.DataFrame:
    """Merge rows that fall in the same bucket and sort by account, hour and key."""
    order = np.lexsort((ua, model, ip, fp, hour, w.rank[ra]))
    cols = [x[order] for x in (w.rank[ra], hour, fp, ip, model, ua)]
    new = np.ones(len(order), dtype=bool)
    if len(order):
        new[1:] = np.any([c[1:] != c[:-1] for c in cols], axis=0)
    starts = np.flatnonzero(new)
    first = order[starts]

    def total(x):
        return np.add.reduceat(x[order], starts) if len(starts) else x[:0]
    return pd.DataFrame({
        "account_id": w.ids[ra[first]],
        "ts": (START + hour[first].astype("timedelta64[h]")).astype("datetime64[us]"),
        "ip": ip_table[ip[first]], "model": MODELS[model[first]],
        "prompt_fingerprint": _hex64(fp[first]),
        "input_tokens": total(input_tokens), "output_tokens": total(output_tokens),
        "requests": total(requests), "user_agent": np.concatenate([CLIENTS, BROWSERS])[ua[first]]})
