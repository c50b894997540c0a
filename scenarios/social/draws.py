"""Random draws and the text they are written as.

ASCII byte matrices as text (Python or Arrow), random strings, hex ids and UUIDs, content ids
and their hash, IPv4 and IPv6 addresses, power-law sizes, weighted sampling without
replacement and Zipf weights.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_ALNUM = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_OCTETS = np.array([str(i) for i in range(256)], dtype=object)
_HEXTETS = np.array([format(i, "x") for i in range(65536)], dtype=object)
_TWO_DIGITS = np.array([f"{i:02d}" for i in range(100)], dtype=object)


def _text(matrix: np.ndarray) -> np.ndarray:
    """Each row of an (n, k) ASCII byte matrix as a str, in an object array."""
    n, width = matrix.shape
    blob = np.ascontiguousarray(matrix, dtype=np.uint8).tobytes().decode("ascii")
    out = np.empty(n, dtype=object)
    out[:] = [blob[i:i + width] for i in range(0, n * width, width)]
    return out


def _arrow_text(matrix: np.ndarray) -> pa.Array:
    """Each row of an (n, k) ASCII byte matrix as Arrow text, without a Python object per row."""
    n, width = matrix.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int64) * width).tobytes())
    data = pa.py_buffer(np.ascontiguousarray(matrix, dtype=np.uint8).tobytes())
    return pa.Array.from_buffers(pa.large_string(), n, [None, offsets, data])


def _random_text(rng, n: int, width: int, alphabet: np.ndarray = _ALNUM) -> np.ndarray:
    return _text(alphabet[rng.integers(0, len(alphabet), size=(n, width), dtype=np.uint8)])


def _hex16(ids: np.ndarray) -> np.ndarray:
    """16 lowercase hex digits of each 64-bit id, as an (n, 16) byte matrix."""
    raw = np.asarray(ids, dtype=">i8").view(np.uint8).reshape(-1, 8)
    out = np.empty((len(raw), 16), dtype=np.uint8)
    out[:, 0::2], out[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    return out


def _uuid4(rng, n: int, upper: bool = False) -> np.ndarray:
    """Random version-4 UUIDs (iOS vendor ids are upper case), as an (n, 36) byte matrix."""
    alphabet = _HEX_UPPER if upper else _HEX
    digits = alphabet[rng.integers(0, 16, size=(n, 32), dtype=np.uint8)]
    digits[:, 12] = ord("4")
    digits[:, 16] = alphabet[8 + rng.integers(0, 4, size=n)]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, at:at + stop - start] = digits[:, start:stop]
    return out


def _ids(rng, n: int) -> np.ndarray:
    """Random 63-bit content ids (text, template or item)."""
    return rng.integers(1, 2**63 - 1, size=n, dtype=np.int64)


def _slash16(first_octets: np.ndarray, rng) -> np.ndarray:
    """A random /16 ("a.b") under each /8."""
    return _OCTETS[first_octets] + "." + _OCTETS[rng.integers(0, 256, len(first_octets))]


def _ipv4(slash16: np.ndarray, rng, n: int) -> np.ndarray:
    """A random host address under each /16 ("a.b")."""
    return (np.asarray(slash16, dtype=object) + "." + _OCTETS[rng.integers(0, 256, n)] + "."
            + _OCTETS[rng.integers(1, 255, n)])


def _ipv6(prefix, rng, n: int, random_groups: int, shared: int = 0) -> np.ndarray:
    """Addresses under `prefix`; with `shared`, the next hextet takes one of that many values (a carrier's /48s)."""
    out = np.asarray(prefix, dtype=object)
    if shared:
        out = out + ":" + _HEXTETS[0x4000 + rng.integers(0, shared, n) * 0x101]
        random_groups -= 1
    for _ in range(random_groups):
        out = out + ":" + _HEXTETS[rng.integers(0, 65536, n)]
    return out


def _sizes(rng, budget: int, lo: int, hi: int, exponent: float) -> np.ndarray:
    """Group sizes from a discrete power law on [lo, hi] adding up to `budget` (none if it is below lo)."""
    if budget < lo:
        return np.zeros(0, dtype=np.int64)
    support = np.arange(lo, max(lo, min(hi, budget)) + 1)
    weights = support ** -float(exponent)
    return _fill(rng, budget, support, weights / weights.sum())


def _fill(rng, budget: int, support: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sizes drawn from `support` with `weights` until they add up to `budget`; the last one absorbs the rest."""
    if budget < support[0]:
        return np.zeros(0, dtype=np.int64)
    draws = rng.choice(support, size=budget // int(support[0]) + 1, p=weights)
    total = np.cumsum(draws)
    sizes = draws[:np.searchsorted(total, budget) + 1].copy()
    sizes[-1] -= sizes.sum() - budget
    if sizes[-1] < support[0] and len(sizes) > 1:
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    return sizes


def _weighted_sample(rng, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weights (Efraimidis-Spirakis keys)."""
    keys = np.full(len(weights), -np.inf)
    live = weights > 0
    keys[live] = np.log(rng.random(int(live.sum()))) / weights[live]
    k = min(k, int(live.sum()))
    return np.sort(np.argpartition(-keys, k - 1)[:k]) if k else np.zeros(0, dtype=np.int64)


def _zipf(k: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def _mix64(ids: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection, so distinct content ids keep distinct, unrelated-looking hashes."""
    x = np.asarray(ids).astype(np.uint64)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x.view(np.int64)
