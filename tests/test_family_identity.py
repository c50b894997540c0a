"""The identity scenario family: contract files, ground truth and the structure of its world."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ringwatch.ingest.reader import read_records
from ringwatch.scenarios import identity
from ringwatch.scenarios.families import LABEL_COLUMNS, family

ACCOUNTS = 3000
SEED = 4
EXTRA = ("ssn_hash", "address")
POOLED = ["ssn_hash", "phone", "address"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return identity.generate(tmp_path_factory.mktemp("identity"), accounts=ACCOUNTS, seed=SEED)


@pytest.fixture(scope="module")
def read(files):
    """(normalised signups, quarantine, rows read) as the project's reader sees the files."""
    batches = list(read_records("signups", files.signups, extra_identifiers=EXTRA))
    rows = pd.concat([b.rows for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    return rows, quarantine, sum(b.rows_read for b in batches)


@pytest.fixture(scope="module")
def accounts(read, files):
    return read[0].merge(pd.read_parquet(files.labels), on="account_id", validate="one_to_one")


def _largest_component(members: pd.DataFrame, columns: list[str]) -> int:
    """Size of the largest group of accounts linked through shared values of `columns`."""
    parent = {a: a for a in members["account_id"]}

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for column in columns:
        for ids in members.dropna(subset=[column]).groupby(column)["account_id"]:
            first = ids[1].iloc[0]
            for other in ids[1].iloc[1:]:
                parent[root(other)] = root(first)
    return int(pd.Series([root(a) for a in parent]).value_counts().iloc[0])


def test_registered_with_declared_identifiers_and_no_usage(files):
    assert family("identity") is identity
    assert identity.IDENTIFIERS == ("ssn_hash:personal", "address:household")
    assert files.identifiers == identity.IDENTIFIERS
    assert files.usage is None
    assert not (files.signups.parent / "usage.parquet").exists()
    columns = set(pd.read_parquet(files.signups).columns)
    assert {"account_id", "created_at", "email", "phone", "ip", "device_id", "user_agent", "payment_id",
            "country", "org_id", "ssn_hash", "address"} <= columns






def test_files_pass_the_reader(read, files):
    rows, quarantine, rows_read = read
    assert rows_read == ACCOUNTS
    assert len(quarantine) <= 5
    assert len(rows) + len(quarantine) == ACCOUNTS
    assert rows["ssn_hash"].notna().mean() > 0.95
    assert rows["address"].notna().mean() > 0.95
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
    assert 0.03 <= fraud.mean() <= 0.08
    assert set(labels.loc[fraud, "scenario"]) == {"first_party_ring", "synthetic_identity", "mule"}
    assert {"individual", "household", "apartment", "dorm", "care_home", "office", "branch", "public_wifi",
            "repeat_applicant"} <= set(labels.loc[~fraud, "scenario"])
    assert labels.loc[labels["scenario"] == "individual", "group_id"].isna().all()
    assert labels.loc[labels["scenario"] == "household", "group_id"].notna().all()
    sizes = labels[fraud].groupby("ring_id").size()
    assert sizes.min() >= 3 and sizes.max() <= 60
    assert files.counts["hard_rings"] >= 1


def test_households_share_an_address_and_a_line(accounts):
    households = accounts[accounts["scenario"] == "household"].groupby("group_id")
    assert households.size().between(2, 5).all()
    assert households["address"].nunique(dropna=False).eq(1).mean() > 0.95
    same_ip = households["ip"].agg(lambda ips: ips.dropna().duplicated().any())
    same_net = households["ip_net"].agg(lambda nets: nets.dropna().duplicated().any())
    assert same_ip.mean() > 0.5
    assert (same_ip | same_net).mean() > 0.8


def test_first_party_rings_are_webs_of_pooled_personal_identifiers(accounts):
    rings = accounts[accounts["scenario"] == "first_party_ring"].groupby("ring_id")
    assert rings.ngroups >= 2
    for _, members in rings:
        # Members share pooled ids, and the sharing connects the ring (a gap in a form may cut one off)...
        assert _largest_component(members, POOLED) >= len(members) - max(1, len(members) // 10)
        for column in POOLED:
            held = members[column].value_counts()
            assert held.iloc[0] >= 2 or len(members) == 3
            # ...through pools smaller than the ring, without one value for everybody.
            assert members[column].nunique() < len(members)
            if len(members) >= 4:
                assert held.iloc[0] < len(members)


def test_synthetic_identities_and_mules_share_what_their_makers_hold(accounts):
    for _, members in accounts[accounts["scenario"] == "synthetic_identity"].groupby("ring_id"):
        assert members["ssn_hash"].is_unique  # each identity has its own made-up national id
        assert members["phone"].dropna().duplicated().any() or members["address"].dropna().duplicated().any()
        assert _largest_component(members, ["phone", "address", "device_id"]) >= 2
    mules = accounts[accounts["scenario"] == "mule"].groupby("ring_id")
    assert mules["device_id"].agg(lambda d: d.dropna().duplicated().any()).mean() > 0.8
    assert mules["address"].agg(lambda a: a.dropna().is_unique).all()


def test_honest_sharing_is_there(accounts):
    by = accounts.groupby("scenario")
    dorms = accounts[accounts["scenario"] == "dorm"].groupby("group_id")
    assert (dorms["address"].agg(lambda a: a.value_counts().iloc[0]) >= 10).all()
    for _, home in by.get_group("care_home").groupby("group_id"):
        assert home["address"].value_counts().iloc[0] >= 0.8 * len(home)
        # the desk phone, the staff tablet or the home's line
        assert any(home[column].dropna().duplicated().any() for column in ("phone", "device_id", "ip"))
    terminals = by.get_group("branch").groupby("group_id")["device_id"]
    assert terminals.agg(lambda d: d.value_counts().iloc[:3].sum() / len(d)).gt(0.6).all()
    assert by.get_group("office")["org_id"].notna().any()
    repeat = by.get_group("repeat_applicant").groupby("group_id")["ssn_hash"]
    assert repeat.nunique().eq(1).mean() > 0.8
    # A popular browser is shared by hundreds; some honest strangers share one carrier address.
    assert accounts["user_agent"].value_counts().iloc[0] > 200
    loners = by.get_group("individual")
    assert loners["ip"].dropna().duplicated().any()


def test_values_look_real(files):
    raw = pd.read_parquet(files.signups)
    assert raw["email"].dropna().str.contains("@").all()
    assert raw["payment_id"].dropna().str.match(r"^pm_[0-9A-Za-z]{24}$").all()
    assert raw["ssn_hash"].dropna().str.match(r"^[0-9a-f]{64}$").all()
    assert raw["ip"].dropna().str.contains(":").any() and raw["ip"].dropna().str.match(r"^\d+\.\d+").any()
    assert raw["address"].dropna().str.contains(", ").mean() > 0.99
    assert set(raw["country"].dropna().str.upper()) <= {"US", "GB", "UK", "DE", "IN", "FR", "CA", "BR", "AU",
                                                        "ES", "MX", "NL"}
    phones = raw["phone"].dropna()
    assert phones.str.startswith("+").mean() > 0.3 and (~phones.str.startswith("+")).mean() > 0.3
    assert phones.str.replace(r"\D", "", regex=True).str.contains(re.compile(r"55501\d\d$")).any()
