"""Account population model for the demo data: scenario codes, time profiles, builder.

A ``Builder`` hands out fresh integer keys (same key = same identifier value), address
pools and group numbers; the recipes in ``scenarios`` fill one block of accounts at a
time. Nothing here reads the clock: the observation window ends at a fixed instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fake_values as fv

SCENARIOS = ("individual", "org", "university", "carrier", "family", "proxy_user",
             "sdk_heavy", "farm", "hydra", "camouflaged", "small_ring")
(INDIVIDUAL, ORG, UNIVERSITY, CARRIER, FAMILY, PROXY_USER, SDK_HEAVY,
 FARM, HYDRA, CAMO, SMALL) = range(len(SCENARIOS))
FRAUD_KINDS = (FARM, HYDRA, CAMO, SMALL)
GROUP_PREFIX = {ORG: "org", UNIVERSITY: "uni", CARRIER: "carrier", FAMILY: "family",
                FARM: "farm", HYDRA: "hydra", CAMO: "camo", SMALL: "small"}


# Email styles rendered by population_tables.
E_PERSON, E_STAFF, E_PLUS, E_SERIAL, E_TOKEN, E_NONE = range(6)
# Usage IP profiles (rows of traffic.IP_MIX) and time-of-day modes.
IP_INDIV, IP_POOL, IP_UNI, IP_CARRIER, IP_HOME, IP_PROXY, IP_SERVER, IP_CAMO, IP_DC = range(9)
T_DIURNAL, T_BUSINESS, T_FLAT, T_SCHEDULE = range(4)

END = 1794787200  # 2026-11-16T00:00:00Z: fixed end of the observation window
DAY = 86400
TERM_STARTS = (1768176000, 1788739200)  # 2026-01-12 and 2026-09-07, 00:00Z

_HOURS = np.arange(24)
DIURNAL = np.array([2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 11, 10, 10, 10, 10, 10, 10, 10, 11,
                    12, 12, 9, 5], float)
BUSINESS = np.where((_HOURS >= 9) & (_HOURS < 18), 10.0, 0.6)
BUSINESS[_HOURS == 12] = 6.0
FLAT = np.ones(24)
PROFILES = {T_DIURNAL: DIURNAL, T_BUSINESS: BUSINESS, T_FLAT: FLAT}


def seconds_of_day(rng, n: int, profile: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """UTC seconds-of-day whose local hour follows `profile` (24 weights)."""
    cdf = np.cumsum(profile) / profile.sum()
    local = np.searchsorted(cdf, rng.random(n), side="right") * 3600 + rng.integers(0, 3600, n)
    return ((local - np.round(tz * 3600).astype(np.int64)) % DAY).astype(np.int64)


def year_times(rng, n, tz, start=END - 365 * DAY, stop=END - DAY, recency=1.6):
    """Signup times over [start, stop), denser towards the end (growth), diurnal hours."""
    span_days = max(1, (stop - start) // DAY)
    days = np.floor(span_days * rng.random(n) ** (1 / recency)).astype(np.int64)
    return start - start % DAY + days * DAY + seconds_of_day(rng, n, DIURNAL, tz)


@dataclass
class Population:
    """Accounts in block order: key arrays per column plus usage profile arrays."""
    cols: dict
    ip_pool: np.ndarray      # uint32 addresses referenced by pool_start/pool_len
    proxy_pool: np.ndarray   # uint32 residential proxy exits (shared by hydras and users)
    carrier_span: tuple[int, int]
    domains: list[str]
    n_resi24: int
    n_cloud24: int

    @property
    def n(self) -> int:
        return len(self.cols["scenario"])


class Builder:
    """Accumulates account blocks and hands out fresh keys, address pools and group ids."""

    def __init__(self, n: int, seed: int):
        self.rng = np.random.default_rng([seed, 17])
        self.n_total = n
        self.blocks: list[dict] = []
        self.count = 0
        self._key = 0
        self.pool: list[np.ndarray] = []
        self.pool_len = 0
        self.domains = fv.FREE_DOMAINS + fv.THROWAWAY_DOMAINS
        self.n_resi24 = max(64, n // 5)
        self.n_cloud24 = max(32, n // 200)
        self.nets = {"business": 0, "uni": 0, "carrier": 0}
        self.groups = dict.fromkeys(GROUP_PREFIX, 0)
        self.rings = 0
        self.template_groups = 0
        pool_size = max(4000, 4 * n)
        self.proxy_pool = fv.ipv4(fv.SPACE_RESIDENTIAL,
                                  self.rng.integers(0, 3 * self.n_resi24, pool_size),
                                  self.rng.integers(2, 255, pool_size))
        self.vpn = self.add_pool(fv.ipv4(fv.SPACE_CLOUD, self.rng.integers(0, self.n_cloud24,
                                                                            max(8, n // 2000)),
                                         self.rng.integers(2, 255, max(8, n // 2000))))

    def keys(self, k: int) -> np.ndarray:
        """`k` keys never handed out before."""
        out = np.arange(self._key, self._key + k, dtype=np.int64)
        self._key += k
        return out

    def add_pool(self, ips: np.ndarray) -> tuple[int, int]:
        """Register addresses; returns (start, length) into the shared pool."""
        start = self.pool_len
        self.pool.append(ips.astype(np.uint32))
        self.pool_len += len(ips)
        return start, len(ips)

    def net(self, kind: str, k: int = 1) -> np.ndarray:
        """`k` unused /24 numbers of an address space."""
        out = np.arange(self.nets[kind], self.nets[kind] + k)
        self.nets[kind] += k
        return out

    def domain(self, name: str) -> int:
        """Register an email domain; returns its index."""
        self.domains.append(name)
        return len(self.domains) - 1

    def block(self, scenario: int, n: int) -> dict:
        """A new block of `n` accounts with defaults for every column."""
        b = dict(
            scenario=np.full(n, scenario, np.int8), group=np.full(n, -1, np.int32),
            ring=np.full(n, -1, np.int32), created=np.zeros(n, np.int64),
            country=np.zeros(n, np.int16), email_style=np.zeros(n, np.int8),
            email_key=self.keys(n), email_serial=np.zeros(n, np.int32),
            email_numbered=np.zeros(n, bool), email_dotted=np.zeros(n, bool),
            email_domain=np.zeros(n, np.int32), phone_country=np.full(n, -1, np.int16),
            phone_key=self.keys(n), phone_fmt=self.rng.integers(0, 5, n).astype(np.int8),
            ip_v4=np.zeros(n, np.uint32), ip_v6=np.full(n, -1, np.int64),
            device=np.full(n, -1, np.int64), card=np.full(n, -1, np.int64),
            org=np.full(n, -1, np.int64), ua=np.zeros(n, np.int16), plan=np.zeros(n, np.int8),
            ip_profile=np.zeros(n, np.int8), pool_start=np.zeros(n, np.int64),
            pool_len=np.zeros(n, np.int32), usage_ua=np.zeros(n, np.int16),
            tpl_group=np.full(n, -1, np.int64), n_tpl=np.zeros(n, np.int8),
            act=np.ones(n, np.float32), ratio_mu=np.full(n, np.log(0.45), np.float32),
            in_mu=(np.log(600) + 0.7 * self.rng.standard_normal(n)).astype(np.float32),
            time_mode=np.zeros(n, np.int8), sched_hour=np.zeros(n, np.float32),
            sched_width=np.full(n, 24, np.float32))
        self.blocks.append(b)
        self.count += n
        return b

    def next_group(self, kind: int) -> int:
        """Next group number (0-based) of a scenario kind."""
        self.groups[kind] += 1
        return self.groups[kind] - 1


def choice(rng, n, weights):
    """Indices drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, float)
    return np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), side="right")


def sdk_ua(rng, n):
    """Popular SDK user-agent indices, weighted by popularity."""
    return (fv.UA_SDK0 + choice(rng, n, fv.SDK_WEIGHTS)).astype(np.int16)


def ua_mix(rng, n, browser, sdk, script, signup=None):
    """UA indices: browser / popular SDK / generic HTTP client, by probability."""
    kind = choice(rng, n, [browser, sdk, script])
    ua = rng.integers(0, len(fv.BROWSER_UAS), n).astype(np.int16)
    if signup is not None:
        ua = np.where(signup < fv.UA_SDK0, signup, ua)
    ua = np.where(kind == 1, sdk_ua(rng, n), ua)
    return np.where(kind == 2, fv.UA_SCRIPT0 + rng.integers(0, len(fv.SCRIPT_UAS), n),
                    ua).astype(np.int16)


def person(bd: Builder, b: dict, country=None, card_p=0.4):
    """Fill the fields of independent people: own email, phone, device, home IP."""
    rng, n = bd.rng, len(b["scenario"])
    b["country"] = (choice(rng, n, fv.COUNTRY_WEIGHTS) if country is None
                    else np.broadcast_to(country, n)).astype(np.int16)
    tz = fv.COUNTRY_TZ[b["country"]]
    b["email_numbered"] = rng.random(n) < 0.6
    b["email_domain"] = np.where(rng.random(n) < 0.03,
                                 len(fv.FREE_DOMAINS) + rng.integers(0, 7, n),
                                 choice(rng, n, fv.FREE_WEIGHTS)).astype(np.int32)
    b["email_style"] = np.where(rng.random(n) < 0.01, E_NONE, E_PERSON).astype(np.int8)
    has_phone = rng.random(n) < 0.5
    abroad = rng.random(n) < 0.05
    b["phone_country"] = np.where(has_phone, np.where(abroad, rng.integers(0, 20, n),
                                                      b["country"]), -1).astype(np.int16)
    b["ip_v4"] = fv.ipv4(fv.SPACE_RESIDENTIAL, rng.integers(0, bd.n_resi24, n),
                         rng.integers(2, 255, n))
    b["ip_v6"] = np.where(rng.random(n) < 0.1, bd.keys(n), -1)
    b["device"] = np.where(rng.random(n) < 0.88, bd.keys(n), -1)
    b["ua"] = ua_mix(rng, n, 0.72, 0.2, 0.08)
    b["card"] = np.where(rng.random(n) < card_p, bd.keys(n), -1)
    b["plan"] = (b["card"] >= 0).astype(np.int8)
    b["created"] = year_times(rng, n, tz)
    b["ip_profile"][:] = IP_INDIV
    b["usage_ua"] = ua_mix(rng, n, 0.25, 0.6, 0.15, signup=b["ua"])
    b["act"] = np.exp(1.1 * rng.standard_normal(n) - 0.6).astype(np.float32)
    return tz

