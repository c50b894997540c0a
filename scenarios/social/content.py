"""What activity writes and what it shares.

``_Rows`` gathers usage rows block by block; ``_Content`` holds the popular items everyone
likes and reposts and the short replies everyone writes, shared by honest and fraud activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .draws import _ids, _zipf
from .params import _END, _START, DAY, HOUR, SocialParams
from .tables import _TZ, _WEIGHTS, CODES
from .timing import HUMAN, _times


class _Rows:
    """Usage rows gathered block by block as column arrays: account, time, content, lengths, requests."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(self, acct, ts, fp, tin, tout, requests=1) -> None:
        """One block of rows; fp, tin, tout and requests may be scalars shared by the block."""
        acct = np.asarray(acct, np.int64)
        columns = (ts, fp, tin, tout, requests)
        self.blocks.append((acct, *(np.broadcast_to(np.asarray(c, np.int64), len(acct)) for c in columns)))

    def columns(self) -> list[np.ndarray]:
        return [np.concatenate([b[i] for b in self.blocks]) for i in range(6)]


@dataclass
class _Content:
    """What everyone shares: popular items (liked and reposted) and the short replies everyone writes."""

    item_id: np.ndarray
    item_time: np.ndarray
    item_len: np.ndarray
    item_weight: np.ndarray
    reply_id: np.ndarray
    reply_len: np.ndarray
    reply_weight: np.ndarray


def _content(p: SocialParams, n: int, rng) -> _Content:
    k = max(300, round(n * p.popular_items_per_account))
    tz = _TZ[rng.choice(len(CODES), k, p=_WEIGHTS), 0]
    times = _times(rng, np.full(k, _START - 2 * DAY), _END - HOUR, tz, HUMAN)
    length = np.clip(rng.lognormal(np.log(40), .7, k), 3, 700).astype(np.int64)
    replies = 40
    return _Content(_ids(rng, k), times, length, _zipf(k, .8), _ids(rng, replies),
                    rng.integers(1, 8, replies), _zipf(replies, 1.0))
