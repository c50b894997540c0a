"""Pool co-activity: a pool of addresses used in the same hours links; a pool alone or a place alone does not."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
from ringwatch.graph.detection import linking
from ringwatch.graph.detection.linking import pair_evidence, strong_links
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.detection.pools import pool_evidence, pool_pairs, timing_scores
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from test_detection_guards import T0, _individuals, _usage

HOUR = pd.Timedelta(hours=1)
START = T0 + pd.Timedelta(days=60)


def _rows(account, times, ips, rng):
    """Single requests, each with a prompt of its own (paraphrased)."""
    return [{"account_id": account, "ts": t.isoformat() + "Z", "ip": ip, "prompt_fingerprint": f"p{rng.integers(1 << 40)}",
             "input_tokens": 500, "output_tokens": 500, "requests": 1} for t, ip in zip(times, ips)]


def _world(rng):
    """Background, a ring in step through a 12-address pool, VPN users of another pool at their own hours, an office."""
    people = _individuals(1500, rng)
    use = _usage(people["account_id"], rng, per_account=12)
    use["ip"] = [f"{20 + i % 200}.{i // 200 % 250}.1.{i % 250 + 1}" for i in range(len(use))]
    groups, rows = [], []
    ring_pool = [f"45.61.{i}.9" for i in range(12)]
    vpn_pool = [f"91.203.{i}.4" for i in range(12)]
    for name, pool, in_step in (("ring", ring_pool, True), ("vpn", vpn_pool, False)):
        members = _individuals(8, rng, prefix=name)
        groups.append(members)
        for a in members["account_id"]:
            if in_step:  # ten daily runs at 02:00-06:00, four requests each
                times = [START + d * pd.Timedelta(days=1) + 2 * HOUR + int(rng.integers(0, 240)) * pd.Timedelta(minutes=1)
                         for d in range(10) for _ in range(4)]
            else:
                times = [START + int(rng.integers(0, 14 * 24 * 60)) * pd.Timedelta(minutes=1) for _ in range(40)]
            rows += _rows(a, times, [pool[i] for i in rng.integers(0, 12, 40)], rng)
    office = _individuals(8, rng, prefix="office")
    office["ip"] = "81.2.69.160"
    groups.append(office)
    for a in office["account_id"]:
        times = [START + d * pd.Timedelta(days=1) + 9 * HOUR + int(rng.integers(0, 480)) * pd.Timedelta(minutes=1)
                 for d in range(10) for _ in range(4)]
        rows += _rows(a, times, ["81.2.69.160"] * 40, rng)
    return pd.concat([people, *groups], ignore_index=True), pd.concat([use, pd.DataFrame(rows)], ignore_index=True)


@contextmanager
def pool_world(folder):
    """An embedded store in ``folder`` holding the pool world (seed 11), open."""
    signups, usage = _world(np.random.default_rng(11))
    signups.to_csv(folder / "signups.csv", index=False)
    usage.to_csv(folder / "usage.csv", index=False)
    with open_engine("embedded", folder / "s.duckdb") as eng:
        ingest(eng, signups=str(folder / "signups.csv"), usage=str(folder / "usage.csv"))
        yield eng


def _pairs_within(frame, accounts, prefix):
    """(a, b) rows of ``frame`` with both accounts' ids starting with ``prefix``."""
    ids = accounts["account_id"].to_numpy()
    both = pd.Series(ids[frame["a"].to_numpy(np.int64)]).str.startswith(prefix).to_numpy() & \
        pd.Series(ids[frame["b"].to_numpy(np.int64)]).str.startswith(prefix).to_numpy()
    return frame[both]


def test_a_pool_used_in_step_links_and_a_pool_or_a_place_alone_does_not(tmp_path):
    params = DetectionParams()
    with pool_world(tmp_path) as eng:
        accounts = eng.accounts()
        evidence, policy = pair_evidence(eng, params, len(accounts))
        links = strong_links(evidence, params, policy)
        shared = evidence[evidence["family"].astype(object) != "pool_activity"]
        pools = pool_pairs(shared, params)
        # Both pools are pools (many addresses in common); the office is one place, however busy.
        assert len(_pairs_within(pools, accounts, "ring")) == 28
        assert len(_pairs_within(pools, accounts, "vpn")) == 28
        assert _pairs_within(pools, accounts, "office").empty
        timing = pool_evidence(eng, pools, accounts["account_id"].to_numpy(), len(accounts))
        ring_timing = _pairs_within(timing, accounts, "ring")
        assert len(ring_timing) == 28 and (ring_timing["score"] >= 0.2).all()
        assert (ring_timing["shared"] >= 5).all()  # hours both were active in
        vpn_timing = _pairs_within(timing, accounts, "vpn")
        assert vpn_timing.empty or vpn_timing["score"].max() < 0.2
        # The ring's pairs are linked (network + behaviour), nobody else's.
        assert len(_pairs_within(links, accounts, "ring")) == 28
        assert _pairs_within(links, accounts, "vpn").empty
        assert _pairs_within(links, accounts, "office").empty
        assert len(links) == 28


def test_hours_met_by_chance_score_nothing():
    # a and b were active in the same four hours; a and c in none of the same; a and d in
    # one, about what two accounts this busy meet in by chance over these hours.
    hours = {0: [0, 1, 2, 3], 1: [0, 1, 2, 3], 2: [10, 11, 12, 13], 3: [1, 12]}
    frame = pd.DataFrame([(i, h) for i, hs in hours.items() for h in hs], columns=["idx", "hour"])
    common, score = timing_scores(frame, np.array([0, 0, 0]), np.array([1, 2, 3]), 1000)
    assert common.tolist() == [4, 0, 1]
    assert score[0] > 0 and score[1] == 0 and score[2] < score[0] / 4
    # More hours in step is more evidence.
    longer = {0: list(range(12)), 1: list(range(12)), 2: list(range(100, 112))}
    frame = pd.DataFrame([(i, h) for i, hs in longer.items() for h in hs], columns=["idx", "hour"])
    assert timing_scores(frame, np.array([0]), np.array([1]), 1000)[1][0] > score[0]


def _world_evidence(tmp_path, params):
    """The pool world's account ids and its pair evidence (and policy)."""
    with pool_world(tmp_path) as eng:
        ids = eng.accounts()["account_id"].to_numpy()
        return ids, *pair_evidence(eng, params, len(ids))


def test_strong_links_are_the_same_for_numbered_and_named_accounts(tmp_path):
    # Engines number accounts; the rule must not depend on that (named ids sort another way).
    params = DetectionParams()
    ids, evidence, policy = _world_evidence(tmp_path, params)
    numbered = strong_links(evidence, params, policy)
    a, b = evidence["a"].to_numpy(np.int64), evidence["b"].to_numpy(np.int64)
    named = strong_links(evidence.assign(a=ids[a], b=ids[b]), params, policy)
    assert len(numbered) == 28
    expected = numbered.assign(a=ids[numbered["a"].to_numpy(np.int64)], b=ids[numbered["b"].to_numpy(np.int64)])
    pd.testing.assert_frame_equal(named.sort_values(["a", "b"], ignore_index=True),
                                  expected.sort_values(["a", "b"], ignore_index=True), check_dtype=False)


def test_strong_links_in_slices_are_the_links_of_one_pass(tmp_path, monkeypatch):
    # A large store's evidence is judged in slices of account numbers; the links must not change.
    params = DetectionParams()
    _, evidence, policy = _world_evidence(tmp_path, params)
    whole = strong_links(evidence, params, policy)
    # Shuffled rows: a pair's rows are found wherever they sit, and come out in pair order.
    shuffled = evidence.sample(frac=1.0, random_state=3).reset_index(drop=True)
    monkeypatch.setattr(linking, "CHUNK_ROWS", 7)
    sliced = strong_links(shuffled, params, policy)
    assert evidence["a"].nunique() > 7 and len(whole) == 28
    pd.testing.assert_frame_equal(sliced, whole)
