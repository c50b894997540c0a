"""Settings of the distillation world: its window, the kinds of accounts and ``Params``.

Per kind: how accounts use the API (``TRAFFIC``), which values a unit offers its members
(``POOLS``), who gives a phone or a card of their own, and how rings schedule their runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

FAMILY = "distillation"
IDENTIFIERS: tuple[str, ...] = ()
MIN_ACCOUNTS = 1000
START = np.datetime64("2026-10-19T00:00:00", "s")  # a Monday; the window ends 2026-11-16T00:00Z
DAYS = 28
HOURS = DAYS * 24

KINDS = ("individual", "sdk_user", "power_user", "company", "university", "mobile_carrier",
         "household", "farm", "hydra", "camouflage", "small_ring", "paraphrase")
GROUPS, RINGS = KINDS[3:7], KINDS[7:]
K = {name: i for i, name in enumerate(KINDS)}
KINDS_ARR = np.array(KINDS, dtype=object)


@dataclass(frozen=True)
class Params:
    """Rates, sizes and mixes of the world; every count scales with the number of accounts."""

    fraud_share: float = 0.055
    # Shares of the honest accounts by kind; individuals take the rest.
    legit_mix: tuple[tuple[str, float], ...] = (
        ("company", 0.16), ("university", 0.07), ("mobile_carrier", 0.10), ("household", 0.08),
        ("sdk_user", 0.09), ("power_user", 0.012))
    # Shares of the fraud accounts by ring type.
    ring_mix: tuple[tuple[str, float], ...] = (
        ("farm", 0.27), ("hydra", 0.22), ("camouflage", 0.17), ("small_ring", 0.08),
        ("paraphrase", 0.26))
    # Unit sizes (smallest, largest, skew): log-uniform, skew > 1 favours small units. In small
    # worlds the bounds shrink so that each kind still forms at least two units.
    sizes: tuple[tuple[str, tuple[int, int, float]], ...] = (
        ("company", (3, 350, 2.2)), ("university", (150, 2500, 1.0)),
        ("mobile_carrier", (300, 5000, 1.0)), ("household", (2, 5, 1.5)),
        ("farm", (30, 450, 1.0)), ("hydra", (20, 260, 1.0)), ("camouflage", (12, 120, 1.3)),
        ("small_ring", (3, 8, 1.0)), ("paraphrase", (8, 160, 1.3)))
    jitter_share: float = 0.4          # rings whose members drift off the schedule ...
    jitter_hours: int = 3              # ... by up to this many hours, per account and per bucket
    bursty_company_share: float = 0.3  # teams onboarded in one afternoon
    sdk_templates: int = 80            # popular SDK/framework prompt templates ...
    sdk_zipf: float = 1.1              # ... with Zipf popularity (the top one reaches thousands)
    proxy_pool: float = 0.15           # exit IPs of the commercial proxy/VPN provider per account
    vpn_share: float = 0.15            # roaming honest traffic that exits through that provider


HUMAN, WORK, FLAT = 0, 1, 2
DIURNAL = np.array([  # relative activity by local hour
    [2, 1, .6, .4, .4, .5, 1, 2, 3.5, 5, 6, 6, 5.5, 5.5, 6, 6, 5.5, 5, 5, 5.5, 5.5, 5, 4, 3],
    [.3, .2, .1, .1, .1, .2, .5, 1.5, 4, 8, 9, 9, 7, 8, 9, 9, 8, 6, 3, 2, 1.5, 1.2, .8, .5],
    [1] * 24])
DIURNAL_CDF = np.cumsum(DIURNAL, axis=1) / DIURNAL.sum(axis=1, keepdims=True)

MODELS = np.array(["sage-3-mini-2026-05-20", "sage-3-2026-05-20", "sage-3-pro-2026-09-02",
                   "sage-3-pro-thinking-2026-09-02", "sage-embed-2"], dtype=object)
EMBED = 4
CASUAL, DEV, OFFICE = (.45, .40, .11, .02, .02), (.30, .32, .16, .06, .16), (.25, .38, .20, .05, .12)
POWER, DISTILL, BLEND = (.05, .22, .40, .33, 0), (0, .04, .52, .44, 0), (.15, .30, .33, .20, .02)


class Traffic(NamedTuple):
    """How one kind of account uses the API."""

    rows: float        # hourly buckets over the whole window (fewer for accounts created late)
    spread: float      # lognormal sigma of activity between accounts
    per_row: float     # extra requests per bucket (Poisson mean)
    idle: float        # share of accounts that never call the API
    sdk: float         # share of buckets on popular SDK templates ...
    shared: float      # ... on the unit's own templates (company prompts, ring templates)
    synced: float      # ... on the unit's schedule (office hours, classes, a ring's runs)
    day: int           # diurnal profile of everything else
    models: tuple      # model mix
    tokens: tuple      # median input and output tokens per request
    ips: tuple         # request IP: own address, unit pool, roaming
    tight: bool        # one operator's script: mixes and sizes barely vary between members


TRAFFIC = {  # rows spread per_row idle sdk shared synced day models tokens ips tight
    "individual": Traffic(10, 1, .8, .15, .12, 0, 0, HUMAN, CASUAL, (350, 450), (.75, 0, .25), False),
    "sdk_user": Traffic(16, .9, 1.5, .05, .8, 0, 0, HUMAN, DEV, (900, 500), (.15, .75, .1), False),
    "power_user": Traffic(220, .5, 4, 0, .15, .45, 0, FLAT, POWER, (900, 2200), (.2, .75, .05), False),
    "company": Traffic(16, .8, 1.2, .1, .1, .4, .5, WORK, OFFICE, (700, 400), (.15, .75, .1), False),
    "university": Traffic(9, 1, .8, .2, .1, .2, .25, HUMAN, CASUAL, (400, 500), (.3, .6, .1), False),
    "mobile_carrier": Traffic(7, 1, .5, .2, .05, 0, 0, HUMAN, CASUAL, (250, 350), (.35, .6, .05), False),
    "household": Traffic(7, 1, .6, .2, .05, 0, 0, HUMAN, CASUAL, (300, 400), (.1, .8, .1), False),
    "farm": Traffic(40, .25, 6, .03, 0, .95, .95, FLAT, DISTILL, (600, 2200), (0, 1, 0), True),
    "hydra": Traffic(35, .4, 3, .05, .05, .85, .75, FLAT, DISTILL, (500, 2000), (.05, .9, .05), True),
    "camouflage": Traffic(22, .5, 1.5, .05, .5, .42, .5, HUMAN, BLEND, (600, 1400), (.1, .8, .1), True),
    "small_ring": Traffic(16, .6, 2, 0, .1, .6, .6, HUMAN, DISTILL, (500, 1600), (.4, .5, .1), True),
    "paraphrase": Traffic(90, .35, 0, 0, 0, 0, .85, FLAT, DISTILL, (450, 2400), (.05, .95, 0), True),
}

# Values a unit offers its members: kind -> (share of units that have a pool, smallest pool,
# largest pool, share of members who take a pooled value rather than their own).
POOLS = {
    "card": {"company": (.75, 1, 1, .92), "household": (.8, 1, 1, .85), "farm": (1, 1, 6, 1),
             "hydra": (1, 3, 30, .9), "small_ring": (.8, 1, 2, .85), "paraphrase": (.4, 2, 12, 1)},
    "device": {"household": (1, 1, 2, .7), "company": (.12, 1, 3, .35), "university": (.6, 2, 8, .12),
               "farm": (.5, 1, 4, 1), "hydra": (.5, 1, 5, .9), "small_ring": (.8, 1, 2, .75)},
    # office switchboards, SMS-activation numbers, VoIP numbers
    "phone": {"company": (.5, 1, 1, .12), "farm": (.6, 1, 8, 1), "camouflage": (1, 2, 6, .6),
              "small_ring": (.5, 1, 2, .7)},
    "org": {"company": (1, 1, 1, .85), "university": (.7, 1, 4, .3)},
    # request and signup IPs: the use column is the share of signups made from the pool
    "ip": {"sdk_user": (1, 1, 2, 0), "power_user": (1, 1, 4, 0), "company": (1, 1, 6, .75),
           "university": (1, 2, 8, .7), "mobile_carrier": (1, 4, 16, .7), "household": (1, 1, 1, .95),
           "farm": (1, 4, 30, .9), "hydra": (1, 50, 600, 1), "camouflage": (1, 20, 150, .9),
           "small_ring": (1, 1, 2, .8), "paraphrase": (1, 15, 80, .9)},
    "template": {"power_user": (1, 1, 4, 1), "company": (1, 2, 10, 1), "university": (.8, 3, 10, 1),
                 "farm": (1, 2, 6, 1), "hydra": (1, 3, 12, 1), "camouflage": (1, 4, 15, 1),
                 "small_ring": (1, 1, 3, 1)},
    "browser": {"farm": (1, 1, 1, 1), "small_ring": (.5, 1, 1, .8)},
    "client": {"company": (1, 1, 2, .7), "farm": (1, 1, 1, 1), "paraphrase": (1, 1, 1, .9),
               "small_ring": (1, 1, 1, .8)},
    "country": {"company": (1, 1, 1, .9), "university": (1, 1, 1, .85), "mobile_carrier": (1, 1, 1, 1),
                "household": (1, 1, 1, 1), "farm": (1, 1, 2, .95), "hydra": (1, 1, 1, .2),
                "camouflage": (1, 1, 1, .7), "small_ring": (1, 1, 1, 1), "paraphrase": (1, 1, 1, .6)},
}
# Share of accounts that give a phone number / a payment method of their own at signup.
HAS_PHONE = {"individual": .45, "sdk_user": .3, "power_user": .5, "company": .5, "university": .3,
             "mobile_carrier": .6, "household": .5, "farm": .3, "hydra": .2, "camouflage": .5,
             "small_ring": .6, "paraphrase": .5}
HAS_CARD = {"individual": .55, "sdk_user": .8, "power_user": 1, "company": .7, "university": .35,
            "mobile_carrier": .45, "household": .7, "farm": 1, "hydra": .7, "camouflage": 1,
            "small_ring": 1, "paraphrase": 1}
# Ring schedules: runs per campaign (fewest, most) and run length in hours (shortest, longest).
RUNS = {"farm": (4, 10, 2, 6), "hydra": (12, 30, 2, 6), "camouflage": (6, 15, 1, 3),
        "small_ring": (5, 12, 1, 3)}


def _per_kind(table: dict, column: int | None = None, default=0.0) -> np.ndarray:
    """A kind-indexed array from a {kind: value} or {kind: tuple} table."""
    get = (lambda v: v) if column is None else (lambda v: v[column])
    return np.array([get(table[k]) if k in table else default for k in KINDS])
