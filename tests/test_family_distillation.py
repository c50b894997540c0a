"""Distillation scenario family: the contract reader, ground truth and the world's shape."""

import pandas as pd
import pytest

from ringwatch.ingest.reader import read_records
from ringwatch.scenarios import distillation
from ringwatch.scenarios.families import LABEL_COLUMNS, family

N = 3000
RING_TYPES = {"farm", "hydra", "camouflage", "small_ring", "paraphrase"}
HONEST_KINDS = {"individual", "sdk_user", "power_user", "company", "university", "mobile_carrier",
                "household"}
GROUP_KINDS = {"company", "university", "mobile_carrier", "household"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    files = distillation.generate(tmp_path_factory.mktemp("distillation"), accounts=N, seed=11)
    frames = {kind: pd.read_parquet(getattr(files, kind)) for kind in ("signups", "usage", "labels")}
    return files, frames


def test_registered_under_its_name():
    assert family("distillation") is distillation
    assert distillation.FAMILY == "distillation" and distillation.IDENTIFIERS == ()






@pytest.mark.parametrize("kind", ["signups", "usage", "labels"])
def test_the_reader_takes_every_row_and_every_identifier(world, kind):
    files, frames = world
    read = loaded = 0
    for batch in read_records(kind, getattr(files, kind)):
        assert batch.quarantine.empty, batch.quarantine.head().to_dict("records")
        assert batch.identifiers_rejected == {}  # values look real: none fails normalisation
        read += batch.rows_read
        loaded += len(batch.rows)
    assert read == loaded == len(frames[kind])


def test_files_are_sorted_and_counted(world):
    files, frames = world
    signups, usage, labels = frames["signups"], frames["usage"], frames["labels"]
    assert signups.account_id.is_unique and signups.account_id.is_monotonic_increasing
    assert labels.account_id.tolist() == signups.account_id.tolist()
    assert list(usage[["account_id", "ts"]].apply(tuple, axis=1)) == sorted(
        usage[["account_id", "ts"]].apply(tuple, axis=1))
    assert set(usage.account_id) <= set(signups.account_id)
    assert files.counts["accounts"] == N and files.counts["usage_rows"] == len(usage)
    assert 10 <= usage.requests.sum() / N <= 25
    created = signups.set_index("account_id").created_at
    assert (usage.ts >= created.reindex(usage.account_id).to_numpy().astype("datetime64[h]")).all()
    assert usage.ts.max() < pd.Timestamp("2026-11-16") <= signups.created_at.min() + pd.Timedelta(days=28)


def test_labels_carry_kind_ring_and_group(world):
    labels = world[1]["labels"]
    assert list(labels.columns) == LABEL_COLUMNS
    assert set(labels.label) == {"fraud", "legit"}
    fraud = labels[labels.label == "fraud"]
    legit = labels[labels.label == "legit"]
    assert 0.04 <= len(fraud) / len(labels) <= 0.08
    assert set(fraud.scenario) == RING_TYPES and set(legit.scenario) == HONEST_KINDS
    assert fraud.ring_id.notna().all() and legit.ring_id.isna().all()
    assert fraud.group_id.isna().all()
    in_group = legit.scenario.isin(GROUP_KINDS)
    assert legit[in_group].group_id.notna().all() and legit[~in_group].group_id.isna().all()
    sizes = fraud.groupby("ring_id").size()
    assert sizes.min() >= 3
    # each ring is one type, and every type forms at least two rings
    assert (fraud.groupby("ring_id").scenario.nunique() == 1).all()
    assert (fraud.groupby("scenario").ring_id.nunique() >= 2).all()


def _members(world, scenario, column):
    signups, labels = world[1]["signups"], world[1]["labels"]
    rows = signups.merge(labels, on="account_id")
    return rows[rows.scenario == scenario].groupby("group_id")[column]


def test_honest_groups_share_identifiers(world):
    device = _members(world, "household", "device_id")
    assert (device.size() - device.nunique() > 0).mean() > 0.5  # most households share a device
    card = _members(world, "company", "payment_id")
    shared_card = card.agg(lambda c: c.value_counts().max() if c.notna().any() else 0)
    assert (shared_card >= 3).sum() >= 3  # staff on one corporate card
    for scenario in ("university", "mobile_carrier"):  # strangers behind a few NAT addresses
        ip = _members(world, scenario, "ip")
        assert (ip.agg(lambda c: c.value_counts().max()) >= 10).all()
    domains = _members(world, "company", "email").agg(lambda e: e.str.split("@").str[1].value_counts().max())
    assert (domains >= 2).mean() > 0.5


def test_popular_sdk_templates_are_used_by_many_unrelated_accounts(world):
    usage, labels = world[1]["usage"], world[1]["labels"]
    rows = usage.merge(labels, on="account_id")
    users = rows.groupby("prompt_fingerprint").account_id.nunique()
    top = rows[rows.prompt_fingerprint == users.idxmax()].drop_duplicates("account_id")
    assert len(top) >= 100
    assert (top.label == "legit").mean() > 0.8
    assert top.group_id.isna().sum() >= 50  # loners: no honest group ties them together


def test_paraphrasing_rings_send_a_fresh_fingerprint_per_request(world):
    usage, labels = world[1]["usage"], world[1]["labels"]
    rows = usage.merge(labels, on="account_id")
    para = rows[rows.scenario == "paraphrase"]
    assert len(para) > 100 and (para.requests == 1).all()
    assert para.prompt_fingerprint.nunique() >= 0.99 * len(para)
    assert not para.prompt_fingerprint.isin(rows[rows.scenario != "paraphrase"].prompt_fingerprint).any()
    # what is left to find them: pooled request IPs shared across each ring's accounts
    shared_ips = para.groupby("ring_id").apply(
        lambda r: (r.groupby("ip").account_id.nunique() >= 2).sum(), include_groups=False)
    assert (shared_ips > 0).all()


def test_farms_use_a_narrow_set_of_ring_only_templates(world):
    usage, labels = world[1]["usage"], world[1]["labels"]
    rows = usage.merge(labels, on="account_id")
    farms = rows[rows.scenario == "farm"]
    top_six = farms.groupby("ring_id").prompt_fingerprint.agg(
        lambda f: f.value_counts(normalize=True).head(6).sum())
    assert (top_six >= 0.9).all()
    outside = rows[rows.ring_id.isna()].prompt_fingerprint
    assert farms.prompt_fingerprint.isin(outside).mean() < 0.05
