"""Usage simulation for the demo population, one day of buckets at a time.

Rows are pre-aggregated: one row per account, 5-minute bucket, prompt template, IP,
model and client, with ``requests`` and token sums. Independent accounts follow Poisson
timing with day-to-day overdispersion; hydra and camouflaged rings also run operator
"waves" in which many members send similar volumes within the same few minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import fake_values as fv
from . import population_model as pm
from .population_tables import AccountKeys

BUCKET = 300
N_POPULAR = 60
# Per scenario: mean requests per row, day-to-day dispersion (gamma shape), share of
# the account's volume that follows Poisson timing (the rest runs in ring waves).
ROW_REQUESTS = np.array([1.6, 2.0, 1.5, 1.3, 1.5, 1.6, 6.0, 8.0, 1.0, 2.5, 4.0])
DISPERSION = np.array([0.5, 0.8, 0.5, 0.5, 0.5, 0.5, 3.0, 4.0, 1.0, 1.0, 2.0])
POISSON_SHARE = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0.5, 1.0])
# Template categories: personal, popular SDK/agent templates, group-internal, ring.
TPL_MIX = np.array([
    [.65, .35, 0, 0], [.45, .25, .30, 0], [.6, .25, .15, 0], [.7, .3, 0, 0],
    [.65, .35, 0, 0], [.6, .4, 0, 0], [.25, .75, 0, 0], [.05, 0, 0, .95],
    [0, .15, 0, .85], [.1, .9, 0, 0], [.1, 0, 0, .9]])
MODEL_MIX = np.array([
    [.55, .28, .10, .07], [.35, .45, .15, .05], [.6, .25, .1, .05], [.6, .25, .08, .07],
    [.6, .25, .08, .07], [.5, .3, .15, .05], [.3, .5, .18, .02], [.1, .6, .3, 0],
    [.05, .45, .5, 0], [.3, .45, .25, 0], [.1, .5, .4, 0]])
# Usage IP sources per profile: home IP, own pool, proxy exit, other residential, carrier.
IP_MIX = np.array([
    [.8, 0, 0, .12, .08], [0, .9, 0, .1, 0], [0, .7, 0, .2, .1], [0, .85, 0, .15, 0],
    [.92, 0, 0, 0, .08], [0, 0, 1, 0, 0], [.1, .9, 0, 0, 0], [.6, 0, .4, 0, 0],
    [0, 1, 0, 0, 0]])
# Ring waves: waves per day, share of members joining each wave, share of waves that run
# the ring's own templates (the rest run popular SDK templates to blend in).
WAVES = {pm.HYDRA: (3, 0.5, 0.85), pm.CAMO: (2, 0.4, 1.0)}


def _categorical(rng, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per row from the distribution table[rows]."""
    cdf = np.cumsum(table, axis=1)[rows]
    u = rng.random(len(rows))[:, None] * cdf[:, -1:]
    return (u >= cdf).sum(axis=1)


class TrafficModel:
    """Per-account usage parameters derived once from the population."""

    def __init__(self, pop: pm.Population, keys: AccountKeys, seed: int, days: int,
                 requests_per_account: float):
        c = pop.cols
        self.pop, self.keys, self.seed, self.days = pop, keys, seed, days
        self.start = pm.END - days * pm.DAY
        self.scen = c["scenario"].astype(np.intp)
        self.created = c["created"]
        self.tz = fv.COUNTRY_TZ[c["country"]]
        active = np.clip((pm.END - np.maximum(self.start, self.created)) / (days * pm.DAY), 0, 1)
        norm = float(np.mean(c["act"] * active)) or 1.0
        # Expected requests per active day, scaled so the mean account sends ~rpa.
        self.daily = requests_per_account * c["act"] / (days * norm)
        self.n_personal = 1 + (fv.mix64(np.arange(pop.n), 5) % np.uint64(6)).astype(np.int64)
        pop_w = 1 / np.arange(1, N_POPULAR + 1) ** 1.1
        self.popular_cdf = np.cumsum(pop_w) / pop_w.sum()
        ring_acc = np.flatnonzero(np.isin(self.scen, tuple(WAVES)))
        self.ring_members = ring_acc[np.argsort(c["ring"][ring_acc], kind="stable")]
        n_rings = int(c["ring"].max()) + 1 if len(ring_acc) else 0
        ring_of = c["ring"][self.ring_members]
        self.ring_off = np.concatenate([[0], np.cumsum(np.bincount(ring_of,
                                                                   minlength=n_rings))])
        self.wave_rings = np.unique(ring_of)
        self.ring_kind = np.zeros(n_rings, np.intp)
        self.ring_first = np.zeros(n_rings, np.int64)
        if len(ring_acc):
            self.ring_kind[ring_of] = self.scen[self.ring_members]
            first = np.full(n_rings, np.iinfo(np.int64).max)
            np.minimum.at(first, ring_of, self.created[self.ring_members])
            self.ring_first = first

    def days_iter(self) -> Iterator[pa.Table]:
        """Yield one rendered table of usage rows per day of the window, in time order."""
        return map(self.day, range(self.days))

    def day(self, d: int) -> pa.Table:
        """The rendered usage rows of day `d`; days are independent (own generator each)."""
        rng = np.random.default_rng([self.seed, 41, d])
        rows = self._poisson_rows(rng, d)
        waves = self._wave_rows(rng, d)
        merged = {k: np.concatenate([rows[k], waves[k]]) for k in rows}
        return self._render(rng, merged)

    def _poisson_rows(self, rng, d: int) -> dict:
        day0 = self.start + d * pm.DAY
        weekday = (day0 // pm.DAY + 3) % 7  # 0 = Monday
        acc = np.flatnonzero(self.created < day0 + pm.DAY)
        scen = self.scen[acc]
        weight = np.where(scen == pm.ORG, 1.0 if weekday < 5 else 0.15,
                          1.0 if weekday < 5 else 1.1)
        shape = DISPERSION[scen]
        burst = rng.gamma(shape, 1 / shape)
        mean = self.daily[acc] * POISSON_SHARE[scen] * weight * burst / ROW_REQUESTS[scen]
        acct = np.repeat(acc, rng.poisson(mean))
        scen = self.scen[acct]
        mode = self.pop.cols["time_mode"][acct]
        sod = np.zeros(len(acct), np.int64)
        for m, profile in pm.PROFILES.items():
            sel = np.flatnonzero(mode == m)
            sod[sel] = pm.seconds_of_day(rng, len(sel), profile, self.tz[acct[sel]])
        sel = np.flatnonzero(mode == pm.T_SCHEDULE)
        hours = self.pop.cols["sched_hour"][acct[sel]] + rng.random(len(sel)) * \
            self.pop.cols["sched_width"][acct[sel]]
        sod[sel] = (hours * 3600).astype(np.int64) % pm.DAY
        requests = 1 + rng.poisson(ROW_REQUESTS[scen] - 1)
        cat = _categorical(rng, TPL_MIX, scen)
        return self._rows(rng, acct, day0 + sod, requests, cat,
                          _categorical(rng, MODEL_MIX, scen))

    def _wave_rows(self, rng, d: int) -> dict:
        day0 = self.start + d * pm.DAY
        rings = self.wave_rings
        kind = self.ring_kind[rings]
        per_day = np.array([WAVES[k][0] for k in kind], float)
        part = np.array([WAVES[k][1] for k in kind])
        n_waves = rng.poisson(per_day)
        w_ring = np.repeat(rings, n_waves)
        w_part = np.repeat(part, n_waves)
        w_t = day0 + rng.integers(0, pm.DAY, len(w_ring))
        keep = w_t >= self.ring_first[w_ring] + 6 * 3600
        w_ring, w_part, w_t = w_ring[keep], w_part[keep], w_t[keep]
        w_kind = self.ring_kind[w_ring]
        w_per_day = np.array([WAVES[k][0] for k in w_kind], float)
        # Volume a member sends per wave so waves carry the ring's expected share.
        members_daily = self.daily[self.ring_members[self.ring_off[w_ring]]] * \
            (1 - POISSON_SHARE[w_kind])
        w_base = np.maximum(1, members_daily / (w_per_day * w_part) * rng.uniform(0.8, 1.2,
                                                                                 len(w_ring)))
        own = np.array([WAVES[k][2] for k in w_kind])
        ring_cat = np.where(rng.random(len(w_ring)) < own, 3, 1)
        w_model = _categorical(rng, MODEL_MIX, w_kind)
        sizes = self.ring_off[w_ring + 1] - self.ring_off[w_ring]
        wave = np.repeat(np.arange(len(w_ring)), sizes)
        pos = np.arange(len(wave)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        acct = self.ring_members[self.ring_off[w_ring][wave] + pos]
        joined = rng.random(len(wave)) < w_part[wave]
        wave, acct = wave[joined], acct[joined]
        hydra = w_kind[wave] == pm.HYDRA
        jitter = np.where(hydra, rng.integers(0, 240, len(wave)),
                          np.clip(rng.normal(0, 600, len(wave)), -1200, 1200).astype(np.int64))
        spread = np.where(hydra, 0.1, 0.4)
        requests = np.maximum(1, np.round(w_base[wave] * (1 + spread * rng.uniform(
            -1, 1, len(wave))))).astype(np.int64)
        return self._rows(rng, acct, w_t[wave] + jitter, requests, ring_cat[wave],
                          w_model[wave])

    def _rows(self, rng, acct, ts, requests, cat, model) -> dict:
        c, n = self.pop.cols, len(acct)
        ok = (ts >= np.maximum(self.created[acct], self.start)) & (ts < pm.END)
        acct, ts, requests, cat, model = acct[ok], ts[ok], requests[ok], cat[ok], model[ok]
        n = len(acct)
        scen = self.scen[acct]
        j_personal = (self.n_personal[acct] * rng.random(n) ** 2).astype(np.int64)
        j_group = (c["n_tpl"][acct] * rng.random(n)).astype(np.int64)
        j_popular = np.searchsorted(self.popular_cdf, rng.random(n))
        group = c["tpl_group"][acct] * 16 + j_group
        fp = np.choose(cat, [acct * 8 + j_personal, (1 << 60) + j_popular,
                             (2 << 60) + group, (3 << 60) + group])
        ip = self._ips(rng, acct)
        ua = np.where(rng.random(n) < 0.92, c["usage_ua"][acct],
                      fv.UA_SDK0 + rng.integers(0, len(fv.SDK_UAS), n))
        fraud = np.isin(scen, pm.FRAUD_KINDS)
        in_req = np.exp(c["in_mu"][acct] + np.where(fraud, 0.2, 0.6) * rng.standard_normal(n))
        out_req = np.minimum(16000, in_req * np.exp(c["ratio_mu"][acct] +
                                                    0.35 * rng.standard_normal(n)))
        in_req = np.minimum(in_req, 120000)
        return dict(acct=acct.astype(np.int64), ts=ts - ts % BUCKET, fp=fp.astype(np.int64),
                    ip=ip, model=model.astype(np.int64), ua=ua.astype(np.int64),
                    requests=requests.astype(np.int64),
                    input_tokens=np.round(in_req * requests).astype(np.int64),
                    output_tokens=np.round(out_req * requests).astype(np.int64))

    def _ips(self, rng, acct) -> np.ndarray:
        """IP codes: >= 0 an IPv4 address, < 0 the account's own signup IP."""
        c, pop, n = self.pop.cols, self.pop, len(acct)
        src = _categorical(rng, IP_MIX, c["ip_profile"][acct])
        plen = np.maximum(1, c["pool_len"][acct])
        pooled = pop.ip_pool[c["pool_start"][acct] + rng.integers(0, 1 << 30, n) % plen]
        proxy = pop.proxy_pool[rng.integers(0, len(pop.proxy_pool), n)]
        resi = fv.ipv4(fv.SPACE_RESIDENTIAL, rng.integers(0, pop.n_resi24, n),
                       rng.integers(2, 255, n))
        cstart, clen = pop.carrier_span
        carrier = pop.ip_pool[cstart + rng.integers(0, max(1, clen), n)]
        v4 = np.choose(src, [np.zeros(n, np.uint32), pooled, proxy, resi, carrier])
        return np.where(src == 0, -(acct + 1), v4.astype(np.int64))

    def _render(self, rng, r: dict) -> pa.Table:
        keys = ["acct", "ts", "fp", "ip", "model", "ua"]
        t = pa.table(r).group_by(keys, use_threads=False).aggregate(
            [("requests", "sum"), ("input_tokens", "sum"), ("output_tokens", "sum")])
        ids = self.keys.id_numbers[t["acct"].to_numpy()]
        order = np.lexsort((ids, t["ts"].to_numpy()))
        t = t.take(pa.array(order))
        acct, ip = t["acct"].to_numpy(), t["ip"].to_numpy()
        home = self.keys.home_ips.take(pa.array(np.maximum(-ip - 1, 0)))
        ips = pc.if_else(pa.array(ip < 0), home, fv.ipv4_strings(np.maximum(ip, 0)))
        return pa.table({
            "account_id": self.keys.account_ids.take(pa.array(acct)),
            "ts": t["ts"],
            "ip": ips,
            "model": fv.pick(fv.MODELS, t["model"].to_numpy()),
            "prompt_fingerprint": fv.hex_tokens(t["fp"].to_numpy(), fv.SALT_TEMPLATE, 16),
            "input_tokens": t["input_tokens_sum"],
            "output_tokens": t["output_tokens_sum"],
            "requests": t["requests_sum"],
            "user_agent": fv.pick(fv.UAS, t["ua"].to_numpy()),
        })
