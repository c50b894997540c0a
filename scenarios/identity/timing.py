"""When people sign up, and timestamps in the window that ends at ``WINDOW_END``.

The hours people and offices keep, honest arrivals by weekday and local hour, and rings'
bursts, waves and steady runs.

Shared by the identity and signup_log families.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .people import _COUNTRY

WINDOW_END = pd.Timestamp("2026-11-16T00:00:00Z")
_HOURLY = np.asarray([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4, 5, 5.5, 6, 6, 6, 5.8, 5.6, 5.5, 5.6, 6, 6.2, 6,
                      5, 3.5, 2])
DIURNAL = _HOURLY / _HOURLY.sum()
_OPEN = np.asarray([0] * 8 + [1, 2, 2, 2, 1.5, 2, 2, 2, 1.5, 0.5] + [0] * 6, dtype=float)
OPENING_HOURS = _OPEN / _OPEN.sum()


def arrivals(rng, countries: np.ndarray, window_days: int, weekday=(1.1, 1.05, 1.0, 1.0, 0.95, 0.8, 0.75),
             hours: np.ndarray = DIURNAL, growth: float = 0.3) -> np.ndarray:
    """Seconds into the window when honest people sign up: by weekday and local hour, growing."""
    n = len(countries)
    start_dow = (WINDOW_END - pd.Timedelta(days=window_days)).day_of_week
    day = np.arange(window_days)
    w = np.asarray(weekday)[(start_dow + day) % 7] * (1 + growth * day / window_days)
    days = rng.choice(window_days, size=n, p=w / w.sum())
    offset = np.asarray([_COUNTRY[c][1] for c in countries], dtype=float)
    t = days * 86400.0 + (rng.choice(24, size=n, p=hours) - offset) * 3600.0 + rng.random(n) * 3600.0
    return within(t, window_days * 86400.0)


def within(t: np.ndarray, window: float) -> np.ndarray:
    """Times moved by whole days into [0, window), keeping their time of day."""
    days = np.where(t < 0, np.ceil(-t / 86400), np.where(t >= window, -np.ceil((t - window + 1) / 86400), 0))
    return np.clip(t + days * 86400, 0, window - 1)


def ring_times(rng, size: int, style: str, window_days: int, country: str) -> np.ndarray:
    """Seconds into the window of a ring's signups: a burst of hours, waves, or steady over weeks."""
    window = window_days * 86400.0
    if style == "burst":
        span = rng.uniform(0.5, 12) * 3600
        offsets = rng.random(size) * span
    elif style == "waves":
        span = rng.uniform(7, 30) * 86400
        waves = rng.random(rng.integers(2, 5)) * span
        offsets = waves[rng.integers(0, len(waves), size)] + rng.random(size) * rng.uniform(1, 6) * 3600
    else:  # steady, at the ring's local daytime
        span = rng.uniform(5, 60) * 86400
        hour = rng.choice(24, size, p=DIURNAL) - _COUNTRY[country][1]
        offsets = np.floor(rng.random(size) * span / 86400) * 86400 + (hour + rng.random(size)) * 3600
    start = rng.random() * max(window - span - 86400, 1.0)
    return within(start + offsets, window)


def timestamps(seconds: np.ndarray, window_days: int) -> pd.Series:
    """UTC timestamps (millisecond Parquet timestamps) `seconds` into the window ending at WINDOW_END."""
    start_ms = int((WINDOW_END - pd.Timedelta(days=window_days)).timestamp()) * 1000
    ms = start_ms + np.round(seconds * 1000).astype(np.int64)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(ms, type=pa.timestamp("ms", tz="UTC"))))
