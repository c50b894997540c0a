"""The social scenario family: deterministic, contract-clean files whose ground truth has every kind it promises.

Nothing here is about detection quality: only that the world is built as described.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ringwatch.ingest.reader import read_records
from ringwatch.scenarios import social
from ringwatch.scenarios.families import LABEL_COLUMNS, family

ACCOUNTS = 3000
FRAUD_KINDS = {"sockpuppet", "amplifier", "slow_ring"}
GROUP_KINDS = {"household", "multi_account", "fan_community", "campus", "news_poster", "challenge"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    files = social.generate(tmp_path_factory.mktemp("social") / "a", accounts=ACCOUNTS, seed=11)
    signups, usage, labels = (pd.read_parquet(f) for f in (files.signups, files.usage, files.labels))
    return files, signups, usage, labels


def test_registered_as_a_family():
    assert family("social") is social
    assert social.FAMILY == "social"
    assert social.IDENTIFIERS == ()






@pytest.mark.parametrize("kind", ["signups", "usage", "labels"])
def test_files_pass_the_reader_without_quarantine(world, kind):
    files = world[0]
    path = {"signups": files.signups, "usage": files.usage, "labels": files.labels}[kind]
    read = loaded = 0
    rejected: dict[str, int] = {}
    for batch in read_records(kind, path):
        assert batch.quarantine.empty, batch.quarantine.head().to_dict("records")
        read += batch.rows_read
        loaded += len(batch.rows)
        for column, count in batch.identifiers_rejected.items():
            rejected[column] = rejected.get(column, 0) + count
    assert read == loaded > 0
    # Addresses, emails and clients are all real-looking; a few phone numbers may fail validation.
    assert set(rejected) <= {"phone"}
    assert rejected.get("phone", 0) <= 0.02 * ACCOUNTS


def test_counts_and_shapes(world):
    files, signups, usage, labels = world
    assert files.counts["accounts"] == len(signups) == len(labels) == ACCOUNTS
    assert signups["account_id"].is_unique
    assert set(labels["account_id"]) == set(signups["account_id"])
    assert set(usage["account_id"]) <= set(signups["account_id"])
    assert usage["request_id"].is_unique
    assert 10 <= len(usage) / ACCOUNTS <= 30
    assert list(signups.columns) == ["account_id", "created_at", "email", "phone", "ip", "device_id", "user_agent",
                                     "payment_id", "country"]
    assert list(usage.columns) == ["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens",
                                   "output_tokens", "requests", "user_agent", "request_id"]
    assert set(usage["model"]) == {"ios", "android", "web", "mobile_web"}
    assert (usage["requests"] >= 1).all() and (usage["input_tokens"] >= 0).all()


def test_activity_stays_in_the_window_and_after_signup(world):
    _, signups, usage, _ = world
    end = social.END.tz_localize(None)  # the files hold zone-less UTC
    assert usage["ts"].min() >= end - pd.Timedelta(days=social.WINDOW_DAYS)
    assert usage["ts"].max() < end
    created = usage["account_id"].map(signups.set_index("account_id")["created_at"])
    assert (usage["ts"] >= created).all()
    assert signups["created_at"].max() < end


def test_labels(world):
    _, _, _, labels = world
    assert list(labels.columns) == LABEL_COLUMNS
    assert set(labels["label"]) == {"fraud", "legit"}
    fraud = labels["label"] == "fraud"
    assert .03 <= fraud.mean() <= .07
    assert labels.loc[fraud, "ring_id"].notna().all() and labels.loc[~fraud, "ring_id"].isna().all()
    assert labels.loc[fraud, "group_id"].isna().all()
    assert set(labels.loc[fraud, "scenario"]) == FRAUD_KINDS
    legit = labels[~fraud]
    assert legit.loc[legit["scenario"].isin(GROUP_KINDS), "group_id"].notna().all()
    assert legit.loc[legit["scenario"] == "individual", "group_id"].isna().all()
    # One kind per ring, every ring at least three accounts.
    rings = labels[fraud].groupby("ring_id")["scenario"].agg(["nunique", "size"])
    assert (rings["nunique"] == 1).all() and (rings["size"] >= 3).all()


def test_every_ring_and_decoy_kind_is_present(world):
    _, _, _, labels = world
    assert set(labels["scenario"]) == set(social.KINDS)
    groups = labels["group_id"].dropna().str.split("-").str[0]
    assert {"household", "person", "fans", "campus", "news", "challenge"} <= set(groups)


def test_sockpuppets_share_devices_and_clients(world):
    _, signups, _, labels = world
    farm = signups.merge(labels, on="account_id").query("scenario == 'sockpuppet'")
    per_ring = farm.groupby("ring_id").agg(size=("account_id", "size"), devices=("device_id", "nunique"),
                                           clients=("user_agent", "nunique"))
    assert (per_ring["devices"] < per_ring["size"]).all()
    assert (per_ring["clients"] == 1).all()
    assert len(farm) / farm["device_id"].nunique() >= 2


def test_sockpuppets_post_the_same_templates(world):
    _, _, usage, labels = world
    rows = usage.merge(labels, on="account_id").query("scenario == 'sockpuppet'")
    shared = rows.groupby(["ring_id", "prompt_fingerprint"])["account_id"].nunique().groupby("ring_id").max()
    size = labels.groupby("ring_id").size()
    # Tiny hard farms may edit every copy; any farm of five or more shares a template among three accounts.
    assert (shared[size[shared.index] >= 5] >= 3).all()


def _group_template(rows: pd.DataFrame) -> str:
    """The fingerprint the most accounts of a group wrote."""
    return rows.groupby("prompt_fingerprint")["account_id"].nunique().idxmax()


def test_organic_decoys_share_templates_across_unrelated_accounts(world):
    _, signups, usage, labels = world
    rows = usage.merge(labels, on="account_id").merge(signups[["account_id", "device_id", "ip"]], on="account_id",
                                                       suffixes=("", "_signup"))
    # Own top-level posts only: likes and reposts carry a popular item's fingerprint, replies answer a post.
    legit = rows[(rows["label"] == "legit") & (rows["input_tokens"] > 0) & (rows["output_tokens"] == 0)]
    for prefix in ("news", "fans", "challenge"):
        members = legit[legit["group_id"].str.startswith(prefix + "-", na=False)]
        for _, group in members.groupby("group_id"):
            posters = legit[legit["prompt_fingerprint"] == _group_template(group)]
            accounts = posters["account_id"].nunique()
            assert accounts >= 10, prefix
            # Unrelated people: different devices and signup addresses, not one household.
            assert posters["device_id"].nunique() >= .9 * accounts
            assert posters["ip_signup"].nunique() >= .5 * accounts
            assert posters.loc[posters["scenario"] == "household", "group_id"].nunique() < accounts
    # A breaking story: a good part of its posts land within an hour of the first.
    news = legit[legit["group_id"].str.startswith("news-", na=False)]
    for _, group in news.groupby("group_id"):
        times = legit.loc[legit["prompt_fingerprint"] == _group_template(group), "ts"]
        assert ((times - times.min()) <= pd.Timedelta(hours=1)).mean() >= .3


def test_popular_items_and_clients_are_shared_widely(world):
    _, signups, usage, labels = world
    legit_ids = labels.loc[labels["label"] == "legit", "account_id"]
    widest = usage[usage["account_id"].isin(legit_ids)].groupby("prompt_fingerprint")["account_id"].nunique().max()
    assert widest >= .1 * ACCOUNTS
    assert signups["user_agent"].value_counts().iloc[0] >= .04 * ACCOUNTS
    # Mobile carriers' CGNAT addresses are shared by many unrelated accounts.
    assert usage.groupby("ip")["account_id"].nunique().max() >= 25


def test_households_share_a_home_address(world):
    _, _, usage, labels = world
    homes = usage.merge(labels, on="account_id").query("scenario == 'household'")
    shared = homes.groupby("group_id").apply(
        lambda g: g.groupby("ip")["account_id"].nunique().max() >= 2, include_groups=False)
    assert shared.mean() >= .5


def test_values_look_real(world):
    _, signups, usage, _ = world
    assert signups["email"].dropna().str.fullmatch(r"[a-z0-9._+]+@[a-z0-9.-]+\.[a-z]{2,}").all()
    assert signups["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert signups["device_id"].str.fullmatch(r"[0-9a-f]{16}|[0-9a-f]{32}|[0-9A-F-]{36}").all()
    assert signups["payment_id"].dropna().str.fullmatch(r"pm_[0-9A-Za-z]{24}").all()
    assert usage["prompt_fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all()
    ipv4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
    ips = pd.concat([signups["ip"], usage["ip"]])
    assert ips.map(lambda ip: bool(ipv4.fullmatch(ip)) or ip.count(":") == 7).all()
    assert (ips.str.contains(":")).any()
    assert signups["user_agent"].str.match(r"Kestrel/|Mozilla/5\.0").all()
