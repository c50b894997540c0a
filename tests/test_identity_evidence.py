"""Identity evidence by sharing class and this data's own frequencies; personal identifiers link alone; families are not rings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ringwatch.graph.detection.clustering import conductance, separate_communities
from ringwatch.graph.detection.identity import (
    HOUSEHOLD,
    SharingFrequencies,
    excess_values,
    identity_evidence,
    identity_web,
    one_person,
)
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from test_detection_guards import T0, _group, _individuals, _run, _usage


def _histogram(kind: str, counts: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "accounts": list(counts), "values": list(counts.values())})


def test_surprise_follows_how_often_this_data_shares_the_kind():
    # The same three-way sharing of a phone: rare where phones are one person's, common where
    # landlines are shared by whole households.
    rare = SharingFrequencies(_histogram("phone", {1: 9_990, 3: 2}), 10_000)
    common = SharingFrequencies(_histogram("phone", {1: 4_000, 3: 2_000}), 10_000)
    asked = (pd.Series(["phone"]), pd.Series([3]))
    assert rare.surprise(*asked)[0] == pytest.approx(-np.log(6 / 10_000))
    assert common.surprise(*asked)[0] == pytest.approx(-np.log(0.6))
    # a kind this store has never seen shared counts as the rarest possible
    assert rare.surprise(pd.Series(["custom:personal:ssn"]), pd.Series([2]))[0] == pytest.approx(np.log(10_000))


def _ids(rows):
    return pd.DataFrame(rows, columns=["account_id", "kind", "value", "cluster"])


def test_household_sharing_counts_only_beyond_a_household():
    freq = SharingFrequencies(pd.concat([_histogram("device", {1: 9_000, 3: 100, 12: 1})]), 10_000)
    family = [(f"f{i}", "device", "d-family", "F") for i in range(3)]
    farm = [(f"r{i}", "device", "d-farm", "R") for i in range(12)]
    ids = _ids(family + farm)
    degrees = pd.DataFrame({"kind": ["device", "device"], "value": ["d-family", "d-farm"], "accounts": [3, 12]})
    excess = excess_values(ids, degrees, freq)
    assert set(excess["value"]) == {"d-farm"}  # three on one device is a family; twelve is not
    found = identity_evidence(ids, excess, pd.Series({"F": 3, "R": 12}), 10_000)
    assert found.loc["F", "identity"] == 0.0
    assert found.loc["R", "identity"] == pytest.approx(-np.log(12 / 10_000) / np.log(10_000), abs=1e-3)
    assert found.loc["R", "identity_kind"] == "device"


def test_a_value_counts_by_the_share_of_its_holders_inside_the_group():
    # The same 60 accounts on one IP: a farm's own address, or a campus NAT 1,500 accounts use.
    freq = SharingFrequencies(_histogram("ip", {1: 8_000, 60: 1, 1_500: 1}), 10_000)
    ids = _ids([(f"f{i}", "ip", "farm-ip", "F") for i in range(60)] +
               [(f"c{i}", "ip", "nat-ip", "C") for i in range(60)])
    degrees = pd.DataFrame({"kind": ["ip", "ip"], "value": ["farm-ip", "nat-ip"], "accounts": [60, 1_500]})
    found = identity_evidence(ids, excess_values(ids, degrees, freq), pd.Series({"F": 60, "C": 60}), 10_000)
    farm = -np.log(1_560 / 10_000) / np.log(10_000)
    assert found.loc["F", "identity"] == pytest.approx(farm, abs=1e-3)
    assert found.loc["C", "identity"] == pytest.approx(-np.log(1_500 / 10_000) * 60 / 1_500 / np.log(10_000),
                                                       abs=1e-3)
    assert found.loc["C", "identity"] < farm / 20


def test_one_persons_few_accounts_are_no_ring_but_one_inbox_behind_many_is():
    twice = [(f"p{i}", kind, value, "P") for i in range(3)
             for kind, value in (("phone", "+1555"), ("custom:personal:ssn", "s1"))]
    inbox = [(f"q{i}", "email", "one@gmail.com", "Q") for i in range(HOUSEHOLD + 5)]
    pool = [(f"r{i}", kind, value, "R") for i in range(3)
            for kind, value in (("phone", "+1777"), ("custom:personal:ssn", f"s{i % 2}"))]
    assert one_person(_ids(twice + inbox + pool), pd.Series({"P": 3, "Q": HOUSEHOLD + 5, "R": 3})) == {"P"}
    freq = SharingFrequencies(pd.concat([_histogram("phone", {1: 9_000, 3: 2}), _histogram("email", {1: 9_000})]),
                              10_000)
    ids = _ids(twice + inbox + pool)
    degrees = pd.DataFrame({"kind": ["phone", "custom:personal:ssn", "email", "phone", "custom:personal:ssn"],
                            "value": ["+1555", "s1", "one@gmail.com", "+1777", "s0"],
                            "accounts": [3, 3, HOUSEHOLD + 5, 3, 2]})
    found = identity_evidence(ids, excess_values(ids, degrees, freq), pd.Series({"P": 3, "Q": 10, "R": 3}), 10_000)
    assert found.loc["P", "identity"] == 0.0
    assert found.loc["Q", "identity"] > 0.5 and found.loc["R", "identity"] > 0.5


def test_a_pool_of_identities_reused_in_combinations_is_a_web_and_one_shared_value_is_not():
    # A branch: twelve customers give the branch's phone. A ring: twelve applications reuse
    # three SSNs and two phones between them. A value mostly held outside the group (a
    # call centre's number, 40 holders) is no part of the group's web.
    branch = [(f"b{i}", "phone", "+44-branch", "B") for i in range(12)]
    ring = [(f"r{i}", kind, value, "R") for i in range(12)
            for kind, value in (("custom:personal:ssn", f"s{i % 3}"), ("phone", f"+44-{i % 2}"))]
    outside = [(f"c{i}", "phone", f"+44-call{i % 2}", "C") for i in range(6)]
    ids = _ids(branch + ring + outside)
    freq = SharingFrequencies(pd.concat([_histogram("phone", {1: 9_000, 12: 1, 6: 2, 40: 2}),
                                         _histogram("custom:personal:ssn", {1: 9_000, 4: 3})]), 10_000)
    degrees = pd.DataFrame({"kind": ["phone", "phone", "phone", "phone", "phone"] + ["custom:personal:ssn"] * 3,
                            "value": ["+44-branch", "+44-0", "+44-1", "+44-call0", "+44-call1", "s0", "s1", "s2"],
                            "accounts": [12, 6, 6, 40, 40, 4, 4, 4]})
    web = identity_web(excess_values(ids, degrees, freq), pd.Series({"B": 12, "R": 12, "C": 6}))
    assert web.loc["B", "web_values"] == 0 and web.loc["B", "identity_web"] == 0.0
    assert web.loc["C", "web_values"] == 0
    # two SSNs and one phone beyond the first of each kind
    assert web.loc["R", "web_values"] == 3
    assert web.loc["R", "identity_web"] == pytest.approx(1 - 2 ** -1.5)
    assert (web.loc["R", "web_pool"], web.loc["R", "web_kinds"]) == (5, 2)


def test_a_personal_identifier_shared_by_two_strangers_links_them(tmp_path):
    rng = np.random.default_rng(3)
    signups = _individuals(300, rng)
    signups["phone"] = [f"+1415555{i:04d}" for i in range(300)]
    # nothing else in common: different days, networks, devices, cards
    signups.loc[[17, 230], "phone"] = "+14155559999"
    params = DetectionParams(min_ring_size=2)  # a pair is a cluster here
    _, accounts, _, _ = _run(tmp_path, signups, _usage(signups["account_id"], rng, per_account=2), params)
    linked = accounts.set_index("account_id").loc[signups.loc[[17, 230], "account_id"], "cluster_id"]
    assert linked.notna().all() and linked.nunique() == 1
    assert accounts["cluster_id"].notna().sum() == 2


def test_a_family_sharing_a_device_a_card_and_a_home_line_is_not_flagged(tmp_path):
    rng = np.random.default_rng(4)
    background = _individuals(400, rng)
    family = _group(3, "fam", device_id="dev-family", payment_id="pm-family", ip="198.51.100.7")
    # a couple open accounts on one evening, their child a month later
    family["created_at"] = [(T0 + pd.Timedelta(days=d, hours=h)).isoformat() + "Z" for d, h in ((3, 19), (3, 20), (33, 16))]
    signups = pd.concat([background, family], ignore_index=True)
    usage = _usage(signups["account_id"], rng, per_account=3)
    _, accounts, rings, _ = _run(tmp_path, signups, usage)
    members = accounts[accounts["account_id"].str.startswith("fam")]
    assert members["cluster_id"].notna().all() and members["cluster_id"].nunique() == 1  # linked ...
    assert not members["flagged"].any()  # ... and not a ring
    assert rings.loc[rings["cluster_id"] == members["cluster_id"].iloc[0], "risk_score"].iloc[0] < 0.5


def test_a_community_that_keeps_its_links_inside_leaves_a_loosely_knit_component():
    # A ring (r0..r9, every pair linked) tied by two links to a ring of bystanders loosely chained together.
    ring = [(f"r{i}", f"r{j}", 1.0) for i in range(10) for j in range(i + 1, 10)]
    chain = [(f"b{i}", f"b{i + 1}", 1.0) for i in range(20)] + [(f"b{i}", f"b{i + 5}", 1.0) for i in range(0, 15, 3)]
    glue = [("r0", "b3", 1.0), ("r5", "b12", 1.0)]
    edges = pd.DataFrame(ring + chain + glue, columns=["a", "b", "weight"])
    group_of = pd.Series({**{f"r{i}": "R" for i in range(10)}, **{f"b{i}": ("B1" if i < 11 else "B2") for i in range(21)}})
    cond = conductance(edges, group_of)
    assert cond["R"] == pytest.approx(2 / (2 * 45 + 2))
    assert cond["B1"] > 0.05
    assert separate_communities(edges, group_of, DetectionParams(split_max_conductance=0.05)) == ["R"]
    assert separate_communities(edges, group_of, DetectionParams(split_max_conductance=0.5)) == ["B1", "B2", "R"]


def test_identity_alone_flags_a_ring_reusing_a_pool_of_identities_and_not_a_branch(tmp_path):
    # No usage, no bursts: fifteen applications over three weeks reuse four SSNs and three
    # phones in combinations; fifteen branch customers give the branch's one phone.
    rng = np.random.default_rng(9)
    people = _individuals(1000, rng)
    people["ssn_hash"] = [f"ssn-{i}" for i in range(1000)]
    people["phone"] = [f"+1415555{i:04d}" for i in range(1000)]
    ring = _group(15, "ring", ssn_hash=[f"ssn-r{i % 4}" for i in range(15)],
                  phone=[f"+1212555000{(i * 7) % 3}" for i in range(15)],
                  email=[f"{name}@gmail.com" for name in rng.choice(["ann", "bo", "cy", "di", "ed"], 15) +
                         pd.Series(rng.integers(10, 99, 15)).astype(str)])
    ring["created_at"] = [(T0 + pd.Timedelta(hours=34 * i)).isoformat() + "Z" for i in range(15)]
    branch = _group(15, "branch", ssn_hash=[f"ssn-b{i}" for i in range(15)], phone="+12125550999",
                    email=[f"{name}@gmail.com" for name in rng.choice(["fe", "gu", "ha", "io", "ju"], 15) +
                           pd.Series(rng.integers(10, 99, 15)).astype(str)])
    branch["created_at"] = [(T0 + pd.Timedelta(hours=34 * i + 5)).isoformat() + "Z" for i in range(15)]
    signups = pd.concat([people, ring, branch], ignore_index=True)
    signups.to_csv(tmp_path / "signups.csv", index=False)
    with open_engine("embedded", tmp_path / "s.duckdb") as eng:
        ingest(eng, signups=str(tmp_path / "signups.csv"), extra_identifiers=("ssn_hash:personal",))
        detect(eng, DetectionParams())
        accounts = eng.results("accounts").set_index("account_id")
        rings = eng.results("rings").set_index("cluster_id")
    flagged = accounts["flagged"]
    assert flagged[accounts.index.str.startswith("ring")].all()
    assert not flagged[~accounts.index.str.startswith("ring")].any()
    ring_row = rings.loc[accounts.loc["ring000", "cluster_id"]]
    assert "members reuse a pool of 7 personal identifiers between them (2 kinds" in ring_row["top_evidence"]
    branch_cluster = accounts.loc["branch000", "cluster_id"]
    assert isinstance(branch_cluster, str) and rings.loc[branch_cluster, "risk_score"] < 0.5
