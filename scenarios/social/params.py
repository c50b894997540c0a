"""The social family's name, window, kinds of account and ``SocialParams`` (rates, sizes, mixes).

The window is the ``WINDOW_DAYS`` days before ``END``; ``_START`` and ``_END`` are its bounds in
unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

FAMILY = "social"
IDENTIFIERS: tuple[str, ...] = ()
MIN_ACCOUNTS = 1000
END = pd.Timestamp("2026-11-16T00:00:00Z")
WINDOW_DAYS = 28
HOUR, DAY = 3600, 86400
_END = int(END.timestamp())
_START = _END - WINDOW_DAYS * DAY


@dataclass(frozen=True)
class SocialParams:
    """Rates, sizes and mixes of the social world; shares are of all accounts unless said."""

    fraud_share: float = 0.05
    sockpuppet_share: float = 0.40        # of fraud accounts
    amplifier_share: float = 0.35         # of fraud accounts; slow rings take the rest
    ring_size_exponent: float = 1.6       # P(size) ~ size ** -exponent on [3, maximum]
    sockpuppet_max: int = 300
    amplifier_max: int = 400
    slow_ring_max: int = 60
    hard_ring_share: float = 0.35         # sockpuppet and amplifier rings hiding their infrastructure
    household_share: float = 0.16
    shared_device_household_share: float = 0.35
    multi_account_share: float = 0.01
    fan_share: float = 0.10
    fan_size: tuple[int, int] = (20, 3000)
    campus_share: float = 0.08
    campus_size: tuple[int, int] = (40, 3000)
    news_events: int = 8
    news_reach: tuple[float, float] = (0.003, 0.03)      # share of accounts posting one story
    challenges: int = 4
    challenge_reach: tuple[float, float] = (0.003, 0.02)
    popular_items_per_account: float = 0.02
    organic_rows: float = 20.0            # mean posts, replies and likes of an active honest account
    dormant_share: float = 0.08
    phone_share: float = 0.55
    premium_share: float = 0.05
    honest_emulator_share: float = 0.003  # gamers and developers on Android emulators


KINDS = ("individual", "household", "multi_account", "fan_community", "campus", "news_poster",
         "challenge", "sockpuppet", "amplifier", "slow_ring")
IND, HOUSE, MULTI, FAN, CAMPUS, NEWS, CHALLENGE, SOCK, AMP, SLOW = range(len(KINDS))
_GROUP_PREFIX = {HOUSE: "household", MULTI: "person", FAN: "fans", CAMPUS: "campus"}
