"""Random draws the value renderers build on.

Words of a vocabulary, picks with weights, patterned and random strings, hex ids, and
power-law sizes of groups and rings.

Shared by the identity and signup_log families.
"""

from __future__ import annotations

import binascii
from functools import cache

import numpy as np


def words(text: str) -> np.ndarray:
    """The whitespace-separated words of `text` as an object array."""
    return np.asarray(text.split(), dtype=object)


@cache
def _numerals(base: int, count: int) -> np.ndarray:
    """Text of 0..count-1 in `base` (10 or 16), for vectorised formatting."""
    return np.asarray([format(i, "x" if base == 16 else "d") for i in range(count)], dtype=object)


def _weights(text: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [item.rsplit(":", 1) for item in text.split()]
    p = np.asarray([float(w) for _, w in pairs])
    return np.asarray([v for v, _ in pairs], dtype=object), p / p.sum()


def pick(rng, values, n: int, p=None) -> np.ndarray:
    """`n` draws from `values`, with probabilities `p`, as an object array."""
    values = np.asarray(values, dtype=object)
    return values[rng.choice(len(values), size=n, p=p)] if n else np.empty(0, dtype=object)


def pattern(rng, n: int, template: str) -> np.ndarray:
    """Strings following `template`: X any digit, N a digit 2-9, L a capital letter, others as written."""
    if n == 0:
        return np.empty(0, dtype=object)
    out = np.repeat(np.frombuffer(template.encode(), dtype=np.uint8)[None, :], n, axis=0)
    for char, low, high in (("X", 48, 58), ("N", 50, 58), ("L", 65, 91)):
        cols = [i for i, c in enumerate(template) if c == char]
        if cols:
            out[:, cols] = rng.integers(low, high, size=(n, len(cols)), dtype=np.uint8)
    return out.view(f"S{len(template)}").ravel().astype(str).astype(object)


def token(rng, n: int, length: int, alphabet: str) -> np.ndarray:
    """`n` random strings of `length` characters from `alphabet`."""
    codes = np.frombuffer(alphabet.encode(), dtype=np.uint8)[rng.integers(0, len(alphabet), size=(n, length))]
    return np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str).astype(object)


def hex_ids(rng, n: int, nbytes: int) -> np.ndarray:
    """`n` random lower-case hex strings of `nbytes` bytes."""
    raw = binascii.hexlify(rng.integers(0, 256, size=n * nbytes, dtype=np.uint8).tobytes())
    return np.frombuffer(raw, dtype=f"S{2 * nbytes}").astype(str).astype(object)


def pick_hard(rng, rings: int, share: float) -> np.ndarray:
    """Which of `rings` rings are hard: `share` of them, at least one of two or more."""
    hard = np.zeros(rings, dtype=bool)
    hard[rng.permutation(rings)[:max(round(share * rings), int(rings >= 2))]] = True
    return hard


def sizes(rng, total: int, low: int, high: int, alpha: float) -> np.ndarray:
    """Power-law group sizes in [low, high] adding up to `total` (the remainder joins a group)."""
    if total < low:
        return np.zeros(0, dtype=np.int64)
    k = np.arange(low, high + 1)
    p = k ** -alpha
    p /= p.sum()
    drawn = rng.choice(k, size=int(total / (k * p).sum() * 2) + 4, p=p)
    while drawn.sum() <= total:
        drawn = np.append(drawn, rng.choice(k, size=len(drawn), p=p))
    keep = drawn[np.cumsum(drawn) <= total]
    rest = total - int(keep.sum())
    if rest >= low or len(keep) == 0:
        return np.append(keep, rest)
    if rest:
        room = np.flatnonzero(keep + rest <= high)
        keep[room[-1] if len(room) else int(np.argmin(keep))] += rest
    return keep
