"""Legitimate sharing must not become rings: a shared NAT IP, a company on one corporate card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.graph.detection.params import DetectionParams

T0 = pd.Timestamp("2026-09-01")


def _individuals(n, rng, prefix="ind"):
    return pd.DataFrame({
        "account_id": [f"{prefix}{i:05d}" for i in range(n)],
        "created_at": [(T0 + pd.Timedelta(minutes=int(m))).isoformat() + "Z" for m in rng.integers(0, 60 * 24 * 60, n)],
        "email": [f"person{i}.{prefix}@gmail.com" for i in range(n)],
        "ip": [f"{10 + i % 200}.{(i // 200) % 250}.{i % 7}.{(i * 7) % 250 + 1}" for i in range(n)],
        "device_id": [f"dev-{prefix}-{i}" for i in range(n)],
        "payment_id": [f"pm-{prefix}-{i}" for i in range(n)],
        "user_agent": ["Mozilla/5.0 browser"] * n,
    })


def _usage(accounts, rng, per_account=15, output_ratio=1.0):
    rows = []
    for a in accounts:
        for _ in range(per_account):
            rows.append({"account_id": a,
                         "ts": (T0 + pd.Timedelta(days=60, minutes=int(rng.integers(0, 60 * 24 * 14)))).isoformat() + "Z",
                         "prompt_fingerprint": f"fp{rng.integers(0, 10_000_000)}",
                         "input_tokens": 500, "output_tokens": int(500 * output_ratio), "requests": 1})
    return pd.DataFrame(rows)


def _run(tmp_path, signups, usage, params=None):
    signups.to_csv(tmp_path / "signups.csv", index=False)
    usage.to_csv(tmp_path / "usage.csv", index=False)
    with open_engine("embedded", tmp_path / "s.duckdb") as eng:
        ingest(eng, signups=str(tmp_path / "signups.csv"), usage=str(tmp_path / "usage.csv"))
        summary = detect(eng, params or DetectionParams())
        return summary, eng.results("accounts"), eng.results("rings"), eng.results("suppressed_hubs")


@pytest.mark.slow
def test_one_ip_shared_by_5000_accounts_makes_no_ring(tmp_path):
    rng = np.random.default_rng(5)
    signups = _individuals(5000, rng)
    signups["ip"] = "100.64.0.1"  # a carrier's CGNAT address
    summary, accounts, rings, hubs = _run(tmp_path, signups, _usage(signups["account_id"], rng, per_account=3))
    assert summary.rings == 0
    assert not accounts["flagged"].any()
    assert rings.empty or not rings["flagged"].any()
    hub = hubs[(hubs["kind"] == "ip") & (hubs["value"] == "100.64.0.1")]
    assert hub["accounts"].tolist() == [5000]


def test_an_organisation_on_one_corporate_card_is_not_flagged(tmp_path):
    rng = np.random.default_rng(6)
    background = _individuals(2000, rng)
    staff = _individuals(60, rng, prefix="acme")
    staff["email"] = [f"employee{i}@acme-corp.com" for i in range(60)]
    staff["payment_id"] = "pm-acme-corporate"
    staff["ip"] = "198.51.100.10"  # office NAT
    staff["org_id"] = "org-acme"
    signups = pd.concat([background, staff], ignore_index=True)
    usage = _usage(signups["account_id"], rng, per_account=5)
    summary, accounts, rings, _ = _run(tmp_path, signups, usage)
    assert summary.flagged_accounts == 0
    # The company is found as a linked group, scored low, and the reason says why.
    acme = accounts[accounts["account_id"].str.startswith("acme")]
    assert acme["cluster_id"].notna().all() and acme["cluster_id"].nunique() == 1
    assert not acme["flagged"].any() and (acme["risk_score"] < 0.5).all()
    row = rings[rings["size"] == 60].iloc[0]
    assert not row["flagged"]
    assert "declared organisation 'org-acme'" in row["explanation"]


def test_a_burst_farm_next_to_the_organisation_is_flagged_with_reasons(tmp_path):
    rng = np.random.default_rng(7)
    background = _individuals(400, rng)
    farm = _individuals(25, rng, prefix="farm")
    farm["created_at"] = [(T0 + pd.Timedelta(days=59, minutes=7 * i)).isoformat() + "Z" for i in range(25)]
    farm["payment_id"] = [f"pm-farm-{i % 3}" for i in range(25)]
    farm["device_id"] = [f"dev-farm-{i % 4}" for i in range(25)]
    farm["email"] = [f"data.worker.{i:04d}@gmail.com" for i in range(25)]
    farm_usage = _usage(farm["account_id"], rng, output_ratio=10.0)
    farm_usage["prompt_fingerprint"] = [f"ringfp{i % 4}" for i in range(len(farm_usage))]
    usage = pd.concat([_usage(background["account_id"], rng), farm_usage], ignore_index=True)
    summary, accounts, rings, _ = _run(tmp_path, pd.concat([background, farm], ignore_index=True), usage)
    flagged = accounts[accounts["flagged"]]
    assert set(flagged["account_id"]) == set(farm["account_id"])
    assert flagged["ring_id"].nunique() == 1
    assert (flagged["reasons"].str.len() > 20).all()
    top = rings[rings["flagged"]].iloc[0]["top_evidence"]
    assert "created in signup bursts (within 48 hours)" in top and "payment instrument pm-farm-" in top


def test_declared_identifier_columns_link_accounts_like_built_in_ones(tmp_path):
    rng = np.random.default_rng(8)
    signups = _individuals(300, rng)
    signups["address"] = [f"{i} Main St" for i in range(300)]
    # five accounts at one address that also share a device: two independent families
    signups.loc[:4, "address"] = "1 Dropship Lane"
    signups.loc[:4, "device_id"] = "dev-shared"
    signups.to_csv(tmp_path / "signups.csv", index=False)
    with open_engine("embedded", tmp_path / "s.duckdb") as eng:
        ingest(eng, signups=str(tmp_path / "signups.csv"), extra_identifiers=("address",))
        assert "custom:address" in eng.identifier_kinds()
        detect(eng, DetectionParams())
        accounts = eng.results("accounts").set_index("account_id")
        evidence = eng.results("ring_evidence")
    linked = accounts.loc[[f"ind{i:05d}" for i in range(5)], "cluster_id"]
    assert linked.notna().all() and linked.nunique() == 1
    assert accounts["cluster_id"].notna().sum() == 5
    assert "custom:address" in set(evidence["kind"])


def _group(n, prefix, **columns):
    frame = pd.DataFrame({
        "account_id": [f"{prefix}{i:03d}" for i in range(n)],
        "created_at": [(T0 + pd.Timedelta(days=59, minutes=37 * i)).isoformat() + "Z" for i in range(n)],
        "email": [f"person.{prefix}{i}@example-mail.com" for i in range(n)],
        "ip": [f"203.0.{i}.{7 * i + 1}" for i in range(n)],
        "device_id": [f"dev-{prefix}-{i}" for i in range(n)],
        "payment_id": [f"pm-{prefix}-{i}" for i in range(n)],
        "user_agent": [f"client-{prefix}-{i}" for i in range(n)],
    })
    return frame.assign(**columns)


def test_a_ring_is_flagged_exactly_when_its_members_are(tmp_path):
    rng = np.random.default_rng(8)
    background = _individuals(400, rng)
    # Four accounts on one card and one phone, created together with numbered emails: they
    # score as a ring, but with the account bar set above the ring's score no member can be
    # flagged, and then neither may the ring.
    group = _group(4, "grp", payment_id="pm-shared", phone="+14155550123",
                   email=[f"data.worker.{i:04d}@gmail.com" for i in range(4)])
    signups = pd.concat([background, group], ignore_index=True)
    params = DetectionParams(ring_threshold=0.5, account_threshold=0.95)
    summary, accounts, rings, _ = _run(tmp_path, signups, _usage(background["account_id"], rng, per_account=3), params)
    row = rings[rings["size"] == 4].iloc[0]
    assert params.ring_threshold <= row["risk_score"] < params.account_threshold
    members = accounts[accounts["cluster_id"] == row["cluster_id"]]
    assert len(members) == 4 and (members["risk_score"] < params.account_threshold).all()
    assert not row["flagged"] and not members["flagged"].any() and members["ring_id"].isna().all()
    assert summary.rings == int(rings["flagged"].sum())
    for _, ring in rings.iterrows():
        flags = accounts.loc[accounts["cluster_id"] == ring["cluster_id"], "flagged"]
        assert flags.all() if ring["flagged"] else not flags.any()


def test_explanations_never_cite_a_hub_a_free_mail_domain_or_a_stock_client(tmp_path):
    rng = np.random.default_rng(9)
    background = _individuals(400, rng)
    background["ip"] = [f"100.64.0.{i % 2}" for i in range(400)]  # two carrier NAT addresses
    farm = _individuals(25, rng, prefix="farm")
    farm["created_at"] = [(T0 + pd.Timedelta(days=59, minutes=7 * i)).isoformat() + "Z" for i in range(25)]
    farm["payment_id"] = [f"pm-farm-{i % 3}" for i in range(25)]
    farm["device_id"] = [f"dev-farm-{i % 4}" for i in range(25)]
    farm["email"] = [f"data.worker.{i:04d}@gmail.com" for i in range(25)]
    farm["ip"] = "100.64.0.1"
    farm_usage = _usage(farm["account_id"], rng, output_ratio=10.0)
    farm_usage["prompt_fingerprint"] = [f"ringfp{i % 4}" for i in range(len(farm_usage))]
    usage = pd.concat([_usage(background["account_id"], rng), farm_usage], ignore_index=True)
    params = DetectionParams(hub_cap=150, rare_client_max_accounts=100)
    _, accounts, rings, hubs = _run(tmp_path, pd.concat([background, farm], ignore_index=True), usage, params)
    assert "100.64.0.1" in set(hubs["value"])  # the NAT address is a hub ...
    flagged = accounts[accounts["flagged"]]
    assert set(flagged["account_id"]) == set(farm["account_id"])
    ring = rings[rings["flagged"]].iloc[0]
    # ... and neither it, the free-mail domain nor the stock browser string is cited anywhere
    text = "\n".join([*flagged["reasons"], ring["top_evidence"], ring["explanation"]])
    for discounted in ("100.64.0.1", "email domain gmail.com", "Mozilla/5.0 browser"):
        assert discounted not in text
    assert "shares payment instrument pm-farm-" in flagged["reasons"].iloc[0]
    assert flagged["reasons"].str.startswith("this account: ").all()  # its own evidence leads
