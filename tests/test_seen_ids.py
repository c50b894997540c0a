"""Seen account ids are found by value, in first-seen order, whatever their hashes do."""

import numpy as np
import pandas as pd
import pytest
from ringwatch.ingest import validate
from ringwatch.ingest.seen_ids import SeenIds, id_hashes
from ringwatch.ingest.validate import DuplicateTracker


def _batches(seed: int, batches: int = 30, size: int = 400):
    """Batches of ids where about a third were seen in earlier batches."""
    rng = np.random.default_rng(seed)
    for b in range(batches):
        fresh = [f"acct-{b}-{i}" for i in range(size)]
        old = [f"acct-{rng.integers(0, b)}-{rng.integers(0, size)}" for _ in range(size // 2)] if b else []
        ids = list(dict.fromkeys(fresh + old))
        rng.shuffle(ids)
        yield pd.Series(ids, dtype="str")


def _check_against_a_dictionary(seen: SeenIds, hashes_of) -> None:
    reference: dict[str, int] = {}
    for ids in _batches(seed=4):
        hashes = hashes_of(ids)
        expected = np.array([reference.get(i, -1) for i in ids], dtype=np.int64)
        assert (seen.lookup(ids, hashes) == expected).all()
        new = expected < 0
        seen.add(ids[new], hashes[new])
        for i in ids[new]:
            reference[i] = len(reference)
    assert len(seen) == len(reference)


def test_lookups_match_a_dictionary_of_every_id():
    seen = SeenIds()
    _check_against_a_dictionary(seen, id_hashes)
    assert len(seen._runs) <= 6  # 30 batches kept in at most log2(30) + 1 runs


def test_colliding_hashes_never_merge_two_accounts():
    seen = SeenIds()
    # Ten distinct hashes for thousands of ids: collisions everywhere.
    _check_against_a_dictionary(seen, lambda ids: (id_hashes(ids) % np.uint64(10)))
    assert seen._exact is not None


@pytest.mark.parametrize("weak", [False, True])
def test_duplicates_and_conflicts_are_told_apart_across_batches(monkeypatch, weak):
    if weak:
        monkeypatch.setattr(validate, "id_hashes", lambda ids: id_hashes(ids) % np.uint64(3))
    tracker = DuplicateTracker()
    ids = pd.Series(["a", "b", "c"], dtype="str")
    first = tracker.classify(ids, np.array([1, 2, 3], dtype=np.uint64), "one.csv", np.array([2, 3, 4]))
    assert not first[0].any() and not first[1].any()
    again = pd.Series(["c", "d", "a", "d"], dtype="str")
    identical, conflict, refs = tracker.classify(
        again, np.array([3, 9, 7, 8], dtype=np.uint64), "two.csv", np.array([2, 3, 4, 5]))
    assert identical.tolist() == [True, False, False, False]
    assert conflict.tolist() == [False, False, True, True]
    assert refs == ["one.csv:2", "two.csv:3"]
