"""The signup-log scenario family: a thin registration log, its ground truth and its world."""

from __future__ import annotations

import pandas as pd
import pytest

from ringwatch.ingest.reader import read_records
from ringwatch.scenarios import signup_log
from ringwatch.scenarios.families import LABEL_COLUMNS, family

ACCOUNTS = 4000
SEED = 3


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return signup_log.generate(tmp_path_factory.mktemp("signup_log"), accounts=ACCOUNTS, seed=SEED)


@pytest.fixture(scope="module")
def read(files):
    """(normalised signups, quarantine, rows read) as the project's reader sees the file."""
    batches = list(read_records("signups", files.signups))
    rows = pd.concat([b.rows for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    return rows, quarantine, sum(b.rows_read for b in batches)


@pytest.fixture(scope="module")
def accounts(read, files):
    return read[0].merge(pd.read_parquet(files.labels), on="account_id", validate="one_to_one")


def test_a_thin_log_without_usage_or_declared_identifiers(files):
    assert family("signup_log") is signup_log
    assert signup_log.IDENTIFIERS == () and files.identifiers == ()
    assert files.usage is None
    assert not (files.signups.parent / "usage.parquet").exists()
    assert list(pd.read_parquet(files.signups).columns) == ["account_id", "created_at", "email", "ip"]






def test_files_pass_the_reader(read, files):
    rows, quarantine, rows_read = read
    assert rows_read == ACCOUNTS
    assert len(quarantine) <= 5
    assert len(rows) + len(quarantine) == ACCOUNTS
    assert rows["email"].notna().mean() > 0.97 and rows["ip"].notna().mean() > 0.97
    assert rows[["phone", "device_id", "payment_id", "user_agent"]].isna().all().all()
    labels = list(read_records("labels", files.labels))
    assert sum(len(b.quarantine) for b in labels) == 0


def test_labels(files):
    labels = pd.read_parquet(files.labels)
    assert list(labels.columns) == LABEL_COLUMNS
    assert labels["account_id"].is_unique and len(labels) == ACCOUNTS
    assert set(labels["label"]) == {"fraud", "legit"}
    fraud = labels["label"] == "fraud"
    assert labels.loc[fraud, "ring_id"].notna().all() and labels.loc[~fraud, "ring_id"].isna().all()
    assert labels.loc[fraud, "group_id"].isna().all()
    assert 0.03 <= fraud.mean() <= 0.12
    assert set(labels.loc[fraud, "scenario"]) == {"bulk_signup", "proxy_rotation"}
    assert {"individual", "household", "nat", "campaign_spike"} <= set(labels.loc[~fraud, "scenario"])
    assert labels.loc[labels["scenario"] == "individual", "group_id"].isna().all()
    assert labels.loc[labels["scenario"].isin(["household", "nat", "campaign_spike"]), "group_id"].notna().all()
    assert files.counts["hard_rings"] >= 1


def test_bulk_rings_come_in_bursts_and_slow_rings_over_weeks(accounts):
    bulk = accounts[accounts["scenario"] == "bulk_signup"].sort_values("created_at").groupby("ring_id")
    gaps = bulk["created_at"].agg(lambda t: t.diff().dt.total_seconds().median())
    assert (gaps < 300).all()
    # Most scripts run from a few networks (a provider's /24s, a VPN's exits, one IPv6 /48).
    few_networks = bulk["ip_net"].agg(lambda n: n.value_counts().iloc[:3].sum() / len(n))
    assert (few_networks >= 0.6).mean() >= 0.5
    slow = accounts[accounts["scenario"] == "proxy_rotation"].groupby("ring_id")["created_at"]
    spans = slow.agg(lambda t: t.max() - t.min())
    assert spans.median() >= pd.Timedelta(days=7) and spans.min() >= pd.Timedelta(days=1)


def test_scripted_addresses_are_patterned(files):
    raw = pd.read_parquet(files.signups).merge(pd.read_parquet(files.labels), on="account_id")
    bulk = raw[raw["scenario"] == "bulk_signup"]
    # numbered, random-looking, +tagged or dotted: far more digits, tags and dots than honest people use
    patterned = bulk["email"].dropna().str.contains(r"\d{2,}@|\+|^[a-z0-9]{8,12}@|\.[^@]*\.[^@]*@", regex=True)
    assert patterned.mean() > 0.5


def test_households_share_a_home_line(accounts):
    households = accounts[accounts["scenario"] == "household"].groupby("group_id")
    assert households.size().between(2, 6).all()
    same_ip = households["ip"].agg(lambda ips: ips.dropna().duplicated().any())
    same_net = households["ip_net"].agg(lambda nets: nets.dropna().duplicated().any())
    assert same_ip.mean() > 0.5
    assert (same_ip | same_net).mean() > 0.8


def test_nat_groups_sit_behind_a_few_addresses(accounts):
    for _, members in accounts[accounts["scenario"] == "nat"].groupby("group_id"):
        assert members["ip"].value_counts().iloc[:8].sum() >= 0.7 * len(members)
        assert members["ip_net"].value_counts().iloc[0] >= 0.7 * len(members)


def test_campaigns_bring_strangers_within_the_hour(accounts):
    for _, members in accounts[accounts["scenario"] == "campaign_spike"].groupby("group_id"):
        since = members["created_at"] - members["created_at"].min()
        assert (since < pd.Timedelta(hours=1)).mean() > 0.5
        assert members["ip"].nunique() > 0.6 * len(members)


def test_values_look_real(files):
    raw = pd.read_parquet(files.signups)
    assert raw["account_id"].str.fullmatch(r"\d+").all()
    assert raw["email"].dropna().str.contains("@").all()
    domains = raw["email"].dropna().str.split("@").str[1].str.lower().value_counts()
    assert domains.index[0] == "gmail.com"
    ips = raw["ip"].dropna()
    assert ips.str.contains(":").any() and ips.str.match(r"^\d+\.\d+\.\d+\.\d+$").mean() > 0.5
