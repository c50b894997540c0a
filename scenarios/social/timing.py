"""When things happen: daily activity profiles per local hour, and ``_times`` that follows them.

Profiles: people (``HUMAN``), farm shifts (``SHIFT``), match nights (``EVENING``) and
round-the-clock automation (``ROUND_THE_CLOCK``).
"""

from __future__ import annotations

import numpy as np

from .params import HOUR

_HOURS = np.arange(24)
_DIURNAL = np.array([2.6, 1.6, 1.0, .7, .5, .6, 1.2, 2.4, 3.6, 4.2, 4.5, 4.8,
                     5.2, 5.0, 4.8, 4.8, 5.0, 5.4, 6.0, 6.8, 7.2, 7.0, 5.8, 4.2])
# Acceptance per local hour: people, farm shifts, match nights, round-the-clock automation.
_PROFILES = np.stack([_DIURNAL / _DIURNAL.max(), np.where((_HOURS >= 9) & (_HOURS < 19), 1.0, .03),
                      np.where((_HOURS >= 18) & (_HOURS < 22), 1.0, .0), np.ones(24)])
HUMAN, SHIFT, EVENING, ROUND_THE_CLOCK = range(4)


def _times(rng, lo, hi, tz, profile) -> np.ndarray:
    """Unix seconds in [lo, hi) whose local hour (UTC offset `tz` hours) follows `profile` (rejection sampling)."""
    lo, hi, tz, profile = np.broadcast_arrays(np.asarray(lo, np.int64), np.asarray(hi, np.int64),
                                              np.asarray(tz, float), np.asarray(profile, np.int64))
    out = lo + (rng.random(lo.shape) * (hi - lo)).astype(np.int64)
    todo = np.arange(out.size)
    for _ in range(40):
        local_hour = (out[todo] + (tz[todo] * HOUR).astype(np.int64)) // HOUR % 24
        todo = todo[rng.random(len(todo)) >= _PROFILES[profile[todo], local_hour]]
        if not len(todo):
            break
        out[todo] = lo[todo] + (rng.random(len(todo)) * (hi[todo] - lo[todo])).astype(np.int64)
    return out
