"""Co-registration: signups in runs from one address, judged against that address's own rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.detection.coregistration import (
    coregistration_evidence,
    coregistration_feature,
    crowd_runs,
    crowded_share,
    signup_runs,
)
from ringwatch.graph.detection.features import email_formats
from ringwatch.graph.detection.identity import HOUSEHOLD
from ringwatch.graph.detection.kinds import kind_table
from ringwatch.graph.detection.linking import alone_scores, strong_links
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.engines import LinkPolicy
from test_detection_guards import T0, _individuals, _run

DAY = pd.Timedelta(days=1)


def _accounts(rows):
    """Accounts in id order from (created_at, ip) rows; the network is the IPv4 /24."""
    frame = pd.DataFrame(rows, columns=["created_at", "ip"])
    frame.insert(0, "account_id", [f"a{i:05d}" for i in range(len(frame))])
    frame["ip_net"] = frame["ip"].str.rsplit(".", n=1).str[0] + ".0/24"
    return frame


def _background(n, rng):
    """Ordinary signups over sixty days, each from its own address."""
    return [(T0 + pd.Timedelta(minutes=int(m)), f"10.{i // 250}.{i % 250}.7")
            for i, m in enumerate(rng.integers(0, 60 * 24 * 60, n))]


def test_a_run_on_a_quiet_network_is_found_and_the_same_signups_spread_out_are_not():
    rng = np.random.default_rng(1)
    start = T0 + 20 * DAY
    run = [(start + pd.Timedelta(minutes=i), f"188.166.9.{i + 2}") for i in range(20)]
    spread = [(start + i * DAY, f"45.77.3.{i + 2}") for i in range(20)]
    runs = signup_runs(_accounts(_background(2000, rng) + run + spread), DetectionParams())
    found = runs.drop_duplicates("run")
    assert list(found["k"]) == [20]  # the 20 one-minute-apart signups on one /24, as one run
    assert found["key"].iloc[0] == "188.166.9.0/24" and found["minutes"].iloc[0] == 19
    assert found["surprise"].iloc[0] > 10 * np.log(2040)
    assert found["key_share"].iloc[0] == 1.0  # nobody else ever signed up from there


def test_a_busy_address_needs_a_denser_run_than_a_quiet_one():
    rng = np.random.default_rng(2)
    start = T0 + 30 * DAY
    nat = [(T0 + pd.Timedelta(minutes=int(m)), "131.111.5.5") for m in rng.integers(0, 60 * 24 * 60, 1500)]
    lecture = [(start + pd.Timedelta(seconds=30 * i), "131.111.5.5") for i in range(20)]
    script = [(start + pd.Timedelta(seconds=30 * i), "5.161.7.9") for i in range(20)]
    runs = signup_runs(_accounts(_background(500, rng) + nat + lecture + script), DetectionParams())
    best = runs.groupby("key")["surprise"].max()
    assert best["5.161.7.9"] > best["131.111.5.5"] > 0
    # the lecture is a small part of what the campus address sees; the script's address sees nothing else
    share = runs.groupby("key")["key_share"].max()
    assert share["5.161.7.9"] == 1.0 and share["131.111.5.5"] < 0.05
    # an address more accounts use than the hub cap is a hub: never scanned, never cited
    hubbed = signup_runs(_accounts(_background(500, rng) + nat + lecture + script), DetectionParams(hub_cap=1000))
    assert "131.111.5.5" not in set(hubbed["key"]) and "5.161.7.9" in set(hubbed["key"])


def test_run_evidence_links_each_signup_to_the_ones_just_before_it():
    rows = [(T0 + pd.Timedelta(seconds=20 * i), "5.161.7.9") for i in range(30)]
    rng = np.random.default_rng(3)
    accounts = _accounts(_background(3000, rng) + rows)
    params = DetectionParams()
    runs = signup_runs(accounts, params)
    ev = coregistration_evidence(runs, params, len(accounts))
    # each of the 30 to the (up to) ten before it; runs on the IP and on its /24 give the same pairs, kept once
    assert len(ev) == sum(min(i, 10) for i in range(30))
    assert (ev["a"] < ev["b"]).all() and set(ev["family"]) == {"coregistration"}
    assert ev["score"].between(1.0, 2.0).all() and (ev["shared"] == 30).all()
    first = 3000  # the run's accounts come after the background ones
    assert {(first + 28, first + 29), (first + 19, first + 29)} <= set(zip(ev["a"], ev["b"]))
    assert (first + 18, first + 29) not in set(zip(ev["a"], ev["b"]))
    narrow = coregistration_evidence(runs, DetectionParams(coregistration_neighbours=4), len(accounts))
    assert len(narrow) == sum(min(i, 4) for i in range(30))


def test_a_household_signing_up_together_is_no_crowd():
    rng = np.random.default_rng(4)
    start = T0 + 10 * DAY
    family = [(start + pd.Timedelta(minutes=3 * i), "82.10.10.10") for i in range(HOUSEHOLD)]
    crowd = [(start + pd.Timedelta(minutes=i), "5.161.7.9") for i in range(12)]
    accounts = _accounts(_background(1000, rng) + family + crowd)
    runs = signup_runs(accounts, DetectionParams())
    runs = runs.assign(account=accounts["account_id"].to_numpy()[runs["account"].to_numpy(np.int64)])
    members = pd.DataFrame({"account_id": accounts["account_id"].iloc[1000:].to_numpy(),
                            "cluster": ["F"] * HOUSEHOLD + ["C"] * 12})
    out = pd.DataFrame({"size": members.groupby("cluster").size()})
    coregistration_feature(out, crowd_runs(members, runs))
    assert runs["account"].isin(members["account_id"].iloc[:HOUSEHOLD]).any()  # a run, as evidence
    assert out.loc["F", "coregistration"] == 0.0  # ... but no bigger than a household
    # twelve from an address that sees nothing else: the seven beyond a household count in full
    assert out.loc["C", "coregistration"] == pytest.approx((12 - HOUSEHOLD) / 12)
    assert out.loc["C", "coreg_accounts"] == 12 and out.loc["C", "coreg_minutes"] == 11


def test_a_domain_whose_accounts_all_arrived_in_crowds_is_no_organisation():
    runs = pd.DataFrame({"account": [f"r{i}" for i in range(12)] + ["c0", "c1", "f0", "f1", "f2"],
                         "run": [1] * 12 + [2, 2, 3, 3, 3], "k": [12] * 12 + [40, 40, 3, 3, 3]})
    domains = pd.Series({**{f"r{i}": "fasthub7.icu" for i in range(12)},
                         **{f"c{i}": "cam.ac.uk" for i in range(8)}, "f0": "smith.name", "f1": "smith.name",
                         "x": None})
    share = crowded_share(domains, runs)
    assert share["fasthub7.icu"] == 1.0  # made for the crowd
    assert share["cam.ac.uk"] == 0.25  # a lecture once signed up together; the rest came one by one
    assert share["smith.name"] == 0.0  # three at a time is a household, not a crowd


def test_address_formats():
    formats = email_formats(pd.Series(["melissapatel2991@gmail.com", "megan.davis@uni.ac.uk", "x9k2@a.io",
                                       None, "no-at-sign"]))
    assert formats.tolist()[:3] == ["a9@gmail.com", "a.a@uni.ac.uk", "a9a9@a.io"]
    assert formats.iloc[3:].isna().all()


def _registrations(n, rng, prefix):
    frame = _individuals(n, rng, prefix)
    for column in ("device_id", "payment_id", "user_agent"):
        frame[column] = None  # a thin log: time, email, IP
    return frame


def test_a_script_registering_from_one_network_is_flagged_and_a_lecture_on_campus_is_not(tmp_path):
    rng = np.random.default_rng(5)
    people = _registrations(600, rng, "ind")
    campus = _registrations(400, rng, "uni")
    campus["ip"] = np.where(rng.random(400) < 0.5, "131.111.5.5", "131.111.5.6")
    campus["email"] = [f"student{i}@gmail.com" if i % 2 else f"s.name{i}@cam.ac.uk" for i in range(400)]
    lecture = campus.index[:40]
    campus.loc[lecture, "created_at"] = [(T0 + 30 * DAY + pd.Timedelta(seconds=40 * i)).isoformat() + "Z"
                                         for i in range(40)]
    campus.loc[lecture, "ip"] = "131.111.5.5"
    script = _registrations(30, rng, "bot")
    script["created_at"] = [(T0 + 12 * DAY + pd.Timedelta(seconds=25 * i)).isoformat() + "Z" for i in range(30)]
    script["ip"] = [f"188.166.9.{2 + i % 4}" for i in range(30)]
    script["email"] = [f"{w}{n}@gmail.com" for w, n in zip(rng.choice(["anna", "liam", "maya"], 30),
                                                          rng.integers(1000, 9999, 30))]
    signups = pd.concat([people, campus, script], ignore_index=True)
    usage = pd.DataFrame(columns=["account_id", "ts", "prompt_fingerprint", "input_tokens", "output_tokens",
                                  "requests"])
    _, accounts, rings, _ = _run(tmp_path, signups, usage.iloc[:0])
    flagged = accounts.set_index("account_id")["flagged"]
    assert flagged[script["account_id"]].all()
    assert not flagged[campus["account_id"]].any() and not flagged[people["account_id"]].any()
    ring = rings[rings["flagged"]].iloc[0]
    assert "signed up in runs from one address or network (30 within 13 minutes from 188.166.9.0/24)" \
        in ring["explanation"]
    reasons = accounts.set_index("account_id").loc[script["account_id"], "reasons"]
    assert reasons.str.startswith("this account: signed up with 29 other members within 13 minutes "
                                  "from 188.166.9.0/24").all()


@pytest.mark.parametrize("column", ["ip", "created_at"])
def test_accounts_without_an_address_or_a_time_make_no_runs(column):
    rows = [(T0 + pd.Timedelta(seconds=20 * i), "5.161.7.9") for i in range(10)]
    accounts = _accounts(rows)
    accounts[column] = None
    assert signup_runs(accounts, DetectionParams()).empty


def test_coregistration_adds_to_the_network_family_and_links_alone_only_when_overwhelming():
    params = DetectionParams()
    policy = LinkPolicy(kinds=kind_table(["ip", "ip_net", "device"], alone_scores(params)), hub_cap=2000,
                        pair_cap=200, anchors=50, total_accounts=10_000, min_total=params.link_threshold)
    rows = [  # a, b, family, score
        (0, 1, "coregistration", 0.8), (0, 1, "network", 0.5),  # the run and the address it ran on: one family
        (2, 3, "coregistration", 0.8), (2, 3, "device", 0.8),  # the run and a shared device: two
        (4, 5, "coregistration", params.behaviour_alone),  # a run that is overwhelming on its own
        (6, 7, "coregistration", 0.6),
    ]
    evidence = pd.DataFrame(rows, columns=["a", "b", "family", "score"]).assign(shared=1, similarity=float("nan"))
    links = strong_links(evidence, params, policy)
    assert set(zip(links["a"], links["b"])) == {(2, 3), (4, 5)}
    assert links.set_index(["a", "b"]).loc[(2, 3), "families"] == 2
