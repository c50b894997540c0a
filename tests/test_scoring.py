"""Ring features, scores and explanations on hand-made clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringwatch.graph.reports.evaluation import roc_auc
from ringwatch.graph.detection.features import FEATURES, Baselines, all_cluster_features
from ringwatch.graph.detection.identity import SharingFrequencies
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.engines import rarity
from ringwatch.graph.detection.scoring import contributions, describe, ring_risk

T0 = pd.Timestamp("2026-10-01")


def _members(n, *, hours_apart, card=None, org=None, domain="gmail.com", free=True, emails=None):
    return pd.DataFrame({
        "account_id": [f"a{i}" for i in range(n)],
        "created_at": [T0 + pd.Timedelta(hours=hours_apart * i) for i in range(n)],
        "email": emails or [f"person{chr(97 + i % 26)}{i // 26}x@{domain}".replace("0x", "x") for i in range(n)],
        "payment_id": [card] * n if card else [f"pm{i}" for i in range(n)],
        "device_id": [f"d{i}" for i in range(n)],
        "org_id": [org] * n,
        "email_domain": [domain] * n,
        "free_domain": [free] * n,
        "user_agent": ["browser"] * n,
    })


def _usage(n, out_ratio, requests):
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "requests": requests,
                         "input_tokens": [1000] * n, "output_tokens": [int(1000 * out_ratio)] * n,
                         "active_days": [5] * n})


def cluster_features(members, usage, activity, base, hub_cap):
    """Features and details of one cluster (every row given belongs to it)."""
    one = lambda frame: frame.assign(cluster=0)
    params = DetectionParams(rare_client_max_accounts=hub_cap)
    row = all_cluster_features(one(members), one(usage), one(activity), base, params).iloc[0]
    details = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.drop(list(FEATURES)).items()}
    return {k: float(row[k]) for k in FEATURES}, details


BASE_USAGE = pd.DataFrame({"requests": [20.0] * 10, "active_days": [5] * 10, "input_tokens": [1000] * 10,
                           "output_tokens": [1000] * 10})
BASE_PROMPTS = pd.DataFrame({"prompt_fingerprint": ["ring"], "accounts": [40]})
BASE = Baselines(BASE_USAGE, BASE_PROMPTS, {"browser": 10_000})


def test_rarity_is_one_for_a_pair_and_falls_to_zero_for_everyone():
    r = rarity(np.array([2, 50, 100_000]), 100_000)
    assert r[0] == pytest.approx(1.0)
    assert 0.5 < r[1] < 1.0
    assert r[2] == pytest.approx(0.0)


def _sharing_base(card: str, n: int) -> Baselines:
    """BASE plus a store of 10,000 accounts where cards are one person's, except ``card`` held by the ``n`` members."""
    ids = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "kind": "payment", "value": card})
    histogram = pd.DataFrame({"kind": ["payment", "payment", "payment"], "accounts": [1, 2, n],
                              "values": [9_900, 30, 1]})
    degrees = pd.DataFrame({"kind": ["payment"], "value": [card], "accounts": [n]})
    return Baselines(BASE_USAGE, BASE_PROMPTS, {"browser": 10_000}, ids, degrees,
                     SharingFrequencies(histogram, 10_000))


def test_burst_farm_scores_high_and_corporate_card_scores_low():
    n = 40
    farm_members = _members(n, hours_apart=0.2, card="pm_shared",
                            emails=[f"data.worker.{i:04d}@gmail.com" for i in range(n)])
    t = [T0 + pd.Timedelta(minutes=30 * (k % 8)) for k in range(n)]
    activity = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "bucket": t,
                             "prompt_fingerprint": "ring", "requests": 10})
    farm, farm_d = cluster_features(farm_members, _usage(n, 9.0, [50] * n), activity,
                                    _sharing_base("pm_shared", n), hub_cap=500)
    org_members = _members(n, hours_apart=24 * 9, card="pm_corp", org="acme", domain="acme.com", free=False)
    org, org_d = cluster_features(org_members, _usage(n, 1.0, list(range(5, 5 + n))), activity.iloc[0:0],
                                  _sharing_base("pm_corp", n), 500)
    assert set(farm) == set(FEATURES)
    assert farm["burst"] == 1.0 and farm["email_pattern"] == 1.0 and farm["synchrony"] == 1.0
    # one card behind 40 accounts, where cards are otherwise one person's: improbable sharing for both
    assert farm["identity"] > 0.5 and org["identity"] == farm["identity"]
    assert org["org_coherence"] == 1.0 and org["burst"] < 0.2
    assert ring_risk(farm) > 0.95
    assert ring_risk(org) < 0.1
    # the corporate card is discounted, and the explanation says why
    assert contributions(org)["identity"] == 0.0
    assert any("declared organisation 'acme'" in text for _, text in describe(org, org_d))
    assert any("40 accounts pay with only 1 payment instruments" in text for _, text in describe(farm, farm_d))
    assert any("nats; strongest: payment instrument)" in text for _, text in describe(farm, farm_d))


def test_roc_auc_matches_the_pairwise_definition():
    rng = np.random.default_rng(1)
    scores = rng.random(200).round(1)  # ties on purpose
    truth = rng.random(200) < 0.3
    pos, neg = scores[truth], scores[~truth]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert roc_auc(scores, truth) == pytest.approx(pairwise)


def _burst(created_hours: list[float]) -> float:
    n = len(created_hours)
    members = _members(n, hours_apart=0)
    members["created_at"] = [T0 + pd.Timedelta(hours=h) for h in created_hours]
    empty = pd.DataFrame({"account_id": [], "bucket": [], "prompt_fingerprint": [], "requests": []})
    return cluster_features(members, _usage(n, 1.0, [5] * n), empty, BASE, 500)[0]["burst"]


def test_a_ring_created_in_weekly_waves_is_as_bursty_as_one_created_at_once():
    one_go = _burst([0.5 * i for i in range(20)])
    waves = _burst([0.5 * i for i in range(10)] + [24 * 7 + 0.5 * i for i in range(6)]
                   + [24 * 14 + 0.5 * i for i in range(4)])
    assert one_go == 1.0 and waves == 1.0
    # the largest single window alone would say 50%: the waves are what count
    assert _burst([0.5 * i for i in range(10)] + [24 * 7 + 24 * 3 * i for i in range(10)]) == pytest.approx(0.5)
    # staff joining one every few days are no burst; three accounts together always are
    assert _burst([24 * 3 * i for i in range(20)]) == 0.0
    assert _burst([0, 1, 2]) == 1.0


def test_two_accounts_opened_together_are_no_burst_in_a_family_of_three():
    # a couple opening accounts on one day and a child a month later: no signup burst
    assert _burst([0, 2, 24 * 30]) == 0.0
    assert _burst([0, 24 * 30, 24 * 60]) == 0.0


def _formats_base(shares: dict) -> Baselines:
    return Baselines(BASE_USAGE, BASE_PROMPTS, {"browser": 10_000}, formats=pd.Series(shares))


@pytest.mark.parametrize("n", [3, 30, 300])
def test_addresses_written_alike_count_by_how_rare_the_format_is_and_how_many_share_it(n):
    rng = np.random.default_rng(n)
    # a different made-up name each, then four digits: no numbered stem in common
    names = ["".join(rng.choice(list("abcdefghijklmnop"), 10)) for _ in range(n)]
    alike = [f"{w}{d}@gmail.com" for w, d in zip(names, rng.integers(1000, 9999, n))]
    usage, none = _usage(n, 1.0, [5] * n), pd.DataFrame(columns=["account_id", "bucket", "prompt_fingerprint",
                                                               "requests"])
    # names then digits at Gmail: 5% of this store's addresses, or half of them
    rare, rare_d = cluster_features(_members(n, hours_apart=30, emails=alike), usage, none,
                                    _formats_base({"a9@gmail.com": 0.05}), 10_000)
    common, _ = cluster_features(_members(n, hours_apart=30, emails=alike), usage, none,
                                 _formats_base({"a9@gmail.com": 0.5}), 10_000)
    assert common["email_pattern"] < rare["email_pattern"]
    assert rare_d["email_alike"] == 1.0 and rare_d["email_format_share"] == 0.05
    assert rare_d["email_example"] in alike
    if n == 3:
        assert 0.4 < rare["email_pattern"] < 0.6  # three alike prove little
    else:
        assert rare["email_pattern"] > 0.85
    if n >= 30:
        assert any(f"100% of emails are written alike, like {rare_d['email_example']} (only 5% of all "
                   "addresses are)" in text for _, text in describe(rare, rare_d))


def test_a_company_naming_its_staff_one_way_is_explained_by_the_company():
    n = 30
    staff = [f"{f}.{chr(97 + i % 26)}{chr(97 + i // 26)}son@acme.com" for i, f in enumerate(["ann", "bo", "cy"] * 10)]
    usage, none = _usage(n, 1.0, [5] * n), pd.DataFrame(columns=["account_id", "bucket", "prompt_fingerprint",
                                                               "requests"])
    org, org_d = cluster_features(_members(n, hours_apart=30, org="acme", domain="acme.com", free=False,
                                           emails=staff), usage, none, _formats_base({"a.a@acme.com": 0.001}),
                                  10_000)
    assert org["org_coherence"] == 1.0 and org["email_pattern"] == 0.0
    assert contributions(org)["email_pattern"] == 0.0
    # the same addresses without the declared organisation: written alike, and a rare format
    loose, _ = cluster_features(_members(n, hours_apart=30, emails=staff), usage, none,
                                _formats_base({"a.a@acme.com": 0.001}), 10_000)
    assert loose["email_pattern"] > 0.85


def test_a_format_on_the_groups_own_domain_is_that_domains_convention_unless_made_for_crowds():
    # A campus: initial, surname and two digits at its own domain, no declared organisation.
    n = 40
    rng = np.random.default_rng(4)
    campus = [f"{chr(97 + i % 26)}{''.join(rng.choice(list('klmnoprst'), 6))}{10 + i}@uni.ac.uk" for i in range(n)]
    usage, none = _usage(n, 1.0, [5] * n), pd.DataFrame(columns=["account_id", "bucket", "prompt_fingerprint",
                                                               "requests"])
    members = _members(n, hours_apart=30, domain="uni.ac.uk", free=False, emails=campus)

    def pattern(crowded: float) -> float:
        base = Baselines(BASE_USAGE, BASE_PROMPTS, {"browser": 10_000}, formats=pd.Series({"a9@uni.ac.uk": 0.002}),
                         crowded_domains=pd.Series({"uni.ac.uk": crowded}))
        return cluster_features(members, usage, none, base, 10_000)[0]["email_pattern"]
    # Students who signed up one by one: the domain's convention explains the format outright.
    assert pattern(0.0) == 0.0
    # A catch-all domain whose every account came in a crowd explains nothing; partly crowded, partly.
    assert pattern(1.0) > 0.85
    assert 0.2 < pattern(0.35) < 0.4
